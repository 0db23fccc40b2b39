"""The seed incident as a real lab run, for the record tests and docs/record-example.md.

``tests/runs/centos6-lab-run.json`` is the JSON record of a real run on a lab host set up
like the seed's server (CentOS 6: clock 3 h behind after the provider's pause, ntpd stopped and
off in every runlevel, started without -g, the nightly backup missed). docs/record-example.md
is rendered from it, in English and in Japanese. Regenerate both with one command::

    RUNBOOK_LAB_INSTANCE=N scripts/record-example      # a fresh lab run (needs root)
    .venv/bin/python tests/unit/record_seed.py         # only re-render the docs from the JSON
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

from runbook.record import render_host
from runbook.results import CommandRecord, HostRun
from runbook.settings import RecordSettings, Settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "record-example.md"
RECORDED = ROOT / "tests" / "runs" / "centos6-lab-run.json"
VERSION = "0.1.0"
JSON_NAME = "lab1-run.json"
JOURNAL_NAME = "run.jsonl"


def recorded() -> dict[str, object]:
    data: dict[str, object] = json.loads(RECORDED.read_text(encoding="utf-8"))
    return data


def seed_run() -> HostRun:
    return HostRun.from_dict(recorded())


T0 = seed_run().started if RECORDED.exists() else 0.0


def cmd(
    command: str, exit_code: int | None, at: float, took: float, out: str = "", err: str = ""
) -> CommandRecord:
    return CommandRecord(command, exit_code, stdout=out, stderr=err, started=T0 + at, duration=took)


def seed_settings(lang: str = "en") -> Settings:
    header = recorded()["header"]
    assert isinstance(header, dict)
    return Settings(
        records=RecordSettings(timezone=str(header["timezone"]), operator=str(header["operator"]), lang=lang)
    )


def example_markdown() -> str:
    """docs/record-example.md: the recorded run's record in English, then in Japanese."""
    run = seed_run()
    with mock.patch("runbook.record.model.runbook_version", return_value=VERSION):
        english, japanese = (
            render_host(
                run,
                seed_settings(lang),
                now=run.finished + 1,
                json_name=JSON_NAME,
                journal_name=JOURNAL_NAME,
            )
            for lang in ("en", "ja")
        )
    intro = (
        "# A maintenance record, as the runbook writes it\n\n"
        "The record of a real run on a lab host set up like the seed's server: CentOS 6, the clock\n"
        "3 hours behind after the provider's pause, ntpd stopped, off in every runlevel and started\n"
        "without `-g`, the nightly backup missed. Its JSON record is `tests/runs/centos6-lab-run.json`;\n"
        "`scripts/record-example` makes both anew from a fresh lab run, and a test fails when this page\n"
        "no longer matches what the runbook renders from that JSON.\n\n"
        "Below: the record in English (the default), then the same run with `--lang ja`.\n\n"
    )
    return f"{intro}---\n\n{_demote(english)}\n---\n\n{_demote(japanese)}"


def _demote(markdown: str) -> str:
    """The record one heading level down, so the page keeps one title."""
    return "\n".join(f"#{line}" if line.startswith("#") else line for line in markdown.split("\n"))


def record_from_lab() -> None:
    """A fresh lab run like the seed incident; its JSON record becomes ``RECORDED``."""
    from lab import Lab

    lab = Lab(ROOT / ".lab")
    try:
        lab.up(profile="centos6", hosts=1)
        host = lab.host("lab1")
        host.run("sed -i 's/^OPTIONS=\"-g /OPTIONS=\"/' /etc/sysconfig/ntpd")
        with tempfile.TemporaryDirectory() as folder:
            config = Path(folder) / "runbook.yaml"
            lab_config = (ROOT / ".lab" / "runbook.yaml").read_text(encoding="utf-8")
            config.write_text(lab_config + '  operator: "ops@monitor01"\n', encoding="utf-8")
            subprocess.run(
                [
                    str(ROOT / ".venv" / "bin" / "invoke"),
                    "-f",
                    str(config),
                    "post-maint",
                    "--host",
                    "lab1",
                    "--timezone",
                    "Asia/Tokyo",
                    "--record-dir",
                    folder,
                ],
                check=True,
                cwd=ROOT,
            )
            (record,) = Path(folder).glob("lab1-*.json")
            shutil.copyfile(record, RECORDED)
    finally:
        lab.down()


if __name__ == "__main__":
    if "--from-lab" in sys.argv:
        record_from_lab()
    EXAMPLE.write_text(example_markdown(), encoding="utf-8")
    sys.stdout.write(f"wrote {EXAMPLE}\n")
