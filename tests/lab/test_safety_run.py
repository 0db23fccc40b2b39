"""Crash safety and hostile input through the real CLI, over real SSH on lab hosts.

The controller is killed (SIGKILL) or interrupted (SIGINT) in the middle of a fleet run: the
journal still renders a record of what was done, marked interrupted. Hostile values given as
flags never run anything on a host. Bad input stops the CLI (exit 2) before any host is contacted.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lab import Lab, LabHost

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.lab


def argv(lab: Lab, records: Path, *hosts: str, extra: tuple[str, ...] = ()) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "invoke",
        "-r",
        str(ROOT),
        "-f",
        str(lab.layout.runbook_yaml),
        "post-maint",
    ]
    for host in hosts:
        command += ["--host", host]
    return [*command, "--record-dir", str(records), *extra]


def steps_in_journal(records: Path) -> int:
    journals = list(records.glob("run-*.jsonl"))
    if not journals:
        return 0
    return sum('"event": "step_finished"' in line for line in journals[0].read_text().splitlines())


def start_and_wait(lab: Lab, records: Path, *hosts: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        argv(lab, records, *hosts), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while steps_in_journal(records) < 3:
        assert process.poll() is None and time.monotonic() < deadline, "the run ended too soon"
        time.sleep(0.05)
    return process


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_interrupted_run_still_has_a_record_of_what_was_done(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path, how: str
) -> None:
    first, second = lab_host(offset="-3h"), lab_host(offset="-3h")
    process = start_and_wait(lab, tmp_path, first.name, second.name)
    process.send_signal(getattr(signal, how))
    out, err = process.communicate(timeout=120)
    journal = next(tmp_path.glob("run-*.jsonl"))
    if how == "SIGKILL":
        assert process.returncode == -signal.SIGKILL
        assert not list(tmp_path.glob("*.md"))
        render = subprocess.run(
            [
                sys.executable,
                "-m",
                "invoke",
                "-r",
                str(ROOT),
                "post-maint.render",
                str(journal),
                "--record-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert render.returncode == 0, render.stdout + render.stderr
    else:
        assert process.returncode == 130, out + err
        assert "interrupted" in err
    records = [json.loads(path.read_text()) for path in tmp_path.glob("lab*-*.json")]
    assert {record["host"] for record in records} == {first.name, second.name}
    assert any(record["interrupted"] for record in records)
    assert sum(len(record["results"]) for record in records) >= 3
    fleet = next(tmp_path.glob("fleet-*.md"), None)
    text = fleet.read_text() if fleet else "".join(p.read_text() for p in tmp_path.glob("lab*-*.md"))
    assert "INTERRUPTED" in text.upper()


HOSTILE = [
    "; touch {m}",
    "$(touch {m})",
    "`touch {m}`",
    "\ntouch {m}\n",
    "' ; touch {m}; '",
    '" ; touch {m}; "',
]


def test_hostile_flag_values_run_nothing_on_the_host(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host()
    marker = "/tmp/pwned"
    for number, template in enumerate(HOSTILE):
        value = template.format(m=marker)
        extra = (
            "--backup-evidence",
            f"/var/lib/backup/last{value}",
            "--url",
            f"http://{{address}}/{value.strip()}".replace("\n", ""),
            "--rerun",
            value,
            "--expect-text",
            value,
            "--ntp-server",
            lab.record()["ntp_server"],
        )
        done = subprocess.run(
            argv(lab, tmp_path / str(number), host.name, extra=extra),
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert list((tmp_path / str(number)).glob(f"{host.name}-*.json")), done.stdout + done.stderr
        assert host.run(f"test -e {marker}").returncode == 1, value
        assert not Path(marker).exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--window", "yesterday night"), "is not START..END"),
        (("--max-offset", "soon"), "max_offset"),
        (("--parallel", "0"), "parallel"),
        (("--template-dir", "/nonexistent/templates"), "/nonexistent/templates"),
        (("--timezone", "Mars/Olympus"), "unknown time zone"),
        (("--ntp-server", "-q"), "NTP server '-q' is not a host name"),
        (("--ntp-server", "ntp; touch /tmp/pwned"), "is not a host name or IP address"),
        (("--host", "web01;echo${IFS}x>>/tmp/f"), "host name 'web01;echo${IFS}x>>/tmp/f'"),
    ],
)
def test_bad_input_stops_before_any_host_is_contacted(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path, flags: tuple[str, ...], message: str
) -> None:
    host = lab_host()
    sshd_log = lab.layout.host_dir(host.name) / "host.log"
    host.run("true")
    deadline = time.monotonic() + 10
    while (before := sshd_log.read_text()).count("Accepted") != before.count("Disconnected from user"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert "Accepted publickey" in before  # sshd logs every login here
    done = subprocess.run(
        argv(lab, tmp_path / "r", host.name, extra=flags),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr + done.stdout
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())
    assert sshd_log.read_text() == before


def test_broken_user_template_stops_before_any_host_is_contacted(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host()
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "host.md.j2").write_text("{% if %}broken\n")
    done = subprocess.run(
        argv(lab, tmp_path / "r", host.name, extra=("--template-dir", str(templates))),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "host.md.j2" in done.stderr + done.stdout
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())
