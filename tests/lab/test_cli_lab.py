"""The runbook console script as an operator uses it, over real SSH on lab hosts: ./runbook.yaml with
per-host settings, --only/--skip, --quiet for cron, and --user/--identity/--port over a bare ssh_config."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from notify_servers import Inbox, closed_port, smtp_server

from lab import Lab, LabHost

pytestmark = pytest.mark.lab


def runbook(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``runbook ARGS`` run in ``cwd`` (where its runbook.yaml is found)."""
    return subprocess.run(
        [sys.executable, "-c", "from runbook.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=cwd,
    )


def lab_settings(lab: Lab) -> dict[str, Any]:
    return dict(yaml.safe_load(lab.layout.runbook_yaml.read_text())["runbook"])


def record_of(records: Path, host: str) -> dict[str, Any]:
    return json.loads(sorted(records.glob(f"{host}-*.json"))[-1].read_text())  # type: ignore[no-any-return]


def outcomes(record: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {r["step"]: (r["outcome"], r["message"]) for r in record["results"]}


def test_local_runbook_yaml_with_a_for_entry_and_step_selection(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    healthy, other = lab_host(offset="0", daemon="running"), lab_host(offset="0", daemon="running")
    settings = lab_settings(lab) | {"for": {other.name: {"urls": ["http://{address}:9/"], "http_timeout": 2}}}
    (tmp_path / "runbook.yaml").write_text(yaml.safe_dump({"runbook": settings}))
    done = runbook(tmp_path, "post-maint", "--host", healthy.name, "--host", other.name, "--skip", "sync_rtc")
    assert done.returncode == 1, done.stdout + done.stderr  # only `other`'s site check fails
    records = tmp_path / settings["record_dir"]
    mine, theirs = outcomes(record_of(records, healthy.name)), outcomes(record_of(records, other.name))
    assert mine["check_site"][0] == "ok"
    assert theirs["check_site"][0] == "failed" and ":9/" in theirs["check_site"][1]
    assert mine["sync_rtc"] == ("skipped", "skipped by choice (--skip)")

    only = runbook(tmp_path, "post-maint", "--host", healthy.name, "--only", "verify")
    assert only.returncode == 0, only.stdout + only.stderr
    assert "check_date runs too: verify needs it" in only.stdout
    ran = outcomes(record_of(records, healthy.name))
    assert [name for name, (outcome, _) in ran.items() if outcome != "skipped"] == ["check_date", "verify"]
    assert ran["check_site"] == ("skipped", "skipped by choice (not in --only)")


def test_quiet_says_one_line_per_fixed_host_then_nothing_once_healthy(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    broken = lab_host(offset="-3h", daemon="stopped")
    (tmp_path / "runbook.yaml").write_text(yaml.safe_dump({"runbook": lab_settings(lab)}))
    fixed = runbook(tmp_path, "post-maint", "--host", broken.name, "--quiet")
    assert fixed.returncode == 0, fixed.stderr
    line = fixed.stdout.strip()
    assert line.startswith(f"{broken.name}: CHANGED - ") and "(record: " in line, fixed.stdout
    assert len(fixed.stdout.splitlines()) == 1 and fixed.stderr == ""
    quiet = runbook(tmp_path, "post-maint", "--host", broken.name, "--quiet")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_user_identity_and_port_over_a_bare_ssh_config(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host(offset="0", daemon="running")
    bare = tmp_path / "ssh_config"
    bare.write_text(
        f"Host {host.name}\n  HostName {host.address}\n  UserKnownHostsFile {lab.layout.known_hosts}\n"
        "  IdentitiesOnly yes\n"
    )
    settings = lab_settings(lab) | {"ssh_config": str(bare)}
    (tmp_path / "runbook.yaml").write_text(yaml.safe_dump({"runbook": settings}))
    login = ("--user", "root", "--identity", str(lab.layout.identity), "--port", "22")
    done = runbook(tmp_path, "post-maint", "--host", host.name, "--only", "check_date", *login)
    assert done.returncode == 0, done.stdout + done.stderr
    refused = runbook(tmp_path, "post-maint", "--host", host.name, "--only", "check_date", "--port", "2222")
    assert refused.returncode == 1
    assert record_of(tmp_path / settings["record_dir"], host.name)["error"]


def test_the_result_arrives_by_mail_and_a_mail_failure_loses_nothing(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    broken = lab_host(offset="-3h", daemon="stopped")
    settings = lab_settings(lab)
    (tmp_path / "runbook.yaml").write_text(yaml.safe_dump({"runbook": settings}))
    inbox = Inbox()
    with smtp_server(inbox) as port:
        done = runbook(
            tmp_path,
            "post-maint",
            "--host",
            broken.name,
            "--quiet",
            "--mail-to",
            "運用 <ops@example.jp>",
            "--smtp",
            f"127.0.0.1:{port}",
        )
    assert done.returncode == 0, done.stderr
    [message] = inbox.messages()
    assert message["Subject"].startswith(f"runbook: {broken.name} FIXED")
    body = message.get_body(("plain",))
    assert body is not None and "the NTP socket is in use, exiting" in body.get_content()
    assert [part.get_filename() for part in message.iter_attachments()] == [
        path.name for path in sorted((tmp_path / settings["record_dir"]).glob(f"{broken.name}-*.json"))
    ]
    with closed_port() as dead:
        again = runbook(
            tmp_path,
            "post-maint",
            "--host",
            broken.name,
            "--mail-to",
            "ops@example.jp",
            "--smtp",
            f"127.0.0.1:{dead}",
        )
    assert again.returncode == 0, again.stderr
    assert (
        again.stderr.startswith("runbook: mail to ops@example.jp via 127.0.0.1:")
        and "refused" in again.stderr
    )
    assert len(sorted((tmp_path / settings["record_dir"]).glob(f"{broken.name}-*.md"))) == 2
