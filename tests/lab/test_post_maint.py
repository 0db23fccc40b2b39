"""The whole runbook through the real CLI, over real OpenSSH, on centos6 lab hosts.

The seed incident end to end: a host 3 h behind with ntpd stopped and the backup missed is
fixed through the socket-in-use fallback; a second run changes nothing; a dry run changes
nothing and says what it would do; a fleet keeps every host, unreachable ones included.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from offline_names import files_only_resolution
from record_checks import validate_host
from record_files import newest_last

from lab import Lab, LabHost

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.lab


def post_maint(
    lab: Lab, records: Path, *hosts: str, extra: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "invoke", "-r", str(ROOT), "-f", str(lab.layout.runbook_yaml), "post-maint"]
    for host in hosts:
        argv += ["--host", host]
    argv += ["--record-dir", str(records), *extra]
    records.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        files_only_resolution(argv, records), capture_output=True, text=True, timeout=240, check=False
    )


def host_record(records: Path, host: str) -> dict[str, Any]:
    """The newest JSON record of ``host``, checked against the host record's schema."""
    paths = sorted(records.glob(f"{host}-*.json"), key=newest_last)
    assert paths, f"no JSON record for {host} in {records}: {list(records.iterdir())}"
    data: dict[str, Any] = json.loads(paths[-1].read_text())
    validate_host(data)
    return data


def steps_of(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {result["step"]: result for result in record["results"]}


def commands_of(step: dict[str, Any]) -> list[str]:
    return [command["command"] for command in step["commands"]]


def test_seed_incident_fixed_then_left_alone(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host(offset="-3h", daemon="stopped")
    assert lab.clock_offset(host.name) == pytest.approx(-10800, abs=5)

    done = post_maint(lab, tmp_path, host.name)
    assert done.returncode == 0, done.stdout + done.stderr
    record = host_record(tmp_path, host.name)
    steps = steps_of(record)
    assert [result["outcome"] for result in record["results"]] == [
        "ok",
        "changed",
        "changed",
        "changed",
        "ok",
        "skipped",
        "changed",
        "ok",
        "ok",
        "ok",
    ]
    assert "no RTC" in steps["sync_rtc"]["message"]
    assert steps["start_enable_daemon"]["data"]["enabled"] is True
    missed = steps["missed_jobs"]["data"]
    assert missed["window"]["source"] == "inferred from the 3 h clock lag"
    assert "/usr/local/bin/backup.sh" in [job["command"] for job in missed["missed"]]
    assert steps["check_date"]["data"]["offset"] == pytest.approx(10800, abs=5)
    assert steps["check_date"]["data"]["bound"] < 0.05
    assert steps["restart_daemon"]["data"]["stop"] == "failed"
    assert steps["restart_daemon"]["data"]["start"] == "ok"
    sync = steps["one_shot_sync"]
    assert sync["data"]["fallback"] is True
    outputs = "\n".join(c["stdout"] + c["stderr"] for c in sync["commands"])
    assert "the NTP socket is in use, exiting" in outputs
    assert any("ntpd stop" in command for command in commands_of(sync))
    assert commands_of(sync)[-1].endswith("ntpd start")
    assert sync["data"]["stepped"] == pytest.approx(10800, abs=5)
    assert abs(steps["verify"]["data"]["offset"]) < 0.5
    assert steps["verify"]["data"]["synchronised"] is True
    assert steps["rerun_backup"]["data"]["rerun"] is True
    assert steps["rerun_backup"]["data"]["exit_code"] == 0
    assert steps["check_site"]["outcome"] == "ok"

    # the host itself: clock right, ntpd running and enabled, backup evidence fresh
    assert lab.clock_offset(host.name) == pytest.approx(0, abs=1)
    assert host.run("/sbin/service ntpd status").returncode == 0
    assert "3:on" in host.run("/sbin/chkconfig --list ntpd").stdout
    evidence = host.run("cat /var/lib/backup/last-success; date +%s").stdout.split()
    assert abs(float(evidence[1]) - float(evidence[0])) < 300
    markdown = sorted(tmp_path.glob(f"{host.name}-*.md"), key=newest_last)[-1].read_text()
    assert "FIXED" in markdown.splitlines()[0]
    assert "the NTP socket is in use, exiting" in markdown

    again = tmp_path / "again"
    second = post_maint(lab, again, host.name)
    assert second.returncode == 0, second.stdout + second.stderr
    healthy = host_record(again, host.name)
    outcomes = {result["step"]: result["outcome"] for result in healthy["results"]}
    # the clock is right now and the host booted long ago (lab uptime 40 d): no window to look in
    assert outcomes.pop("missed_jobs") == "skipped"
    assert set(outcomes.values()) == {"ok"}
    assert healthy["connections"] == 1
    assert healthy["commands"] == 1


def test_dry_run_changes_nothing(lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path) -> None:
    host = lab_host(offset="-3h", daemon="stopped")
    done = post_maint(lab, tmp_path, host.name, extra=("--dry-run",))
    assert done.returncode == 0, done.stdout + done.stderr
    steps = steps_of(host_record(tmp_path, host.name))
    assert steps["one_shot_sync"]["message"].startswith("would ")
    assert steps["rerun_backup"]["message"].startswith("would ")
    assert all(result["dry_run"] for result in steps.values() if result["step"] != "check_site")
    ran = [command for result in steps.values() for command in commands_of(result)]
    read_only = ("LC_ALL=C sh -c ", "LC_ALL=C; export LC_ALL; rb_s=")
    assert ran and all(command.startswith(read_only) for command in ran), ran
    assert lab.clock_offset(host.name) == pytest.approx(-10800, abs=5)
    assert host.run("/sbin/service ntpd status").returncode == 3
    markdown = sorted(tmp_path.glob(f"{host.name}-*.md"), key=newest_last)[-1].read_text()
    assert "DRY RUN" in markdown.splitlines()[0]


def test_fleet_keeps_every_host(lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path) -> None:
    broken = lab_host(offset="-3h", daemon="stopped")
    healthy = lab_host(offset="0", daemon="running")
    done = post_maint(lab, tmp_path, broken.name, healthy.name, "ghost.invalid")
    assert done.returncode == 1, done.stdout + done.stderr
    assert host_record(tmp_path, broken.name)["outcome"] == "changed"
    assert host_record(tmp_path, "ghost.invalid")["error"]
    assert "unknown host name" in host_record(tmp_path, "ghost.invalid")["error"]
    assert sorted(tmp_path.glob("fleet-*.md"))
    assert lab.clock_offset(broken.name) == pytest.approx(0, abs=1)


def test_example_script_composes_three_steps(lab: Lab, lab_host: Callable[..., LabHost]) -> None:
    host = lab_host(offset="+90s", daemon="running")
    server = lab.record()["ntp_server"]
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "docs/examples/three_steps.py"),
            host.name,
            str(lab.layout.ssh_config),
            server,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["check_date", "one_shot_sync", "verify"]
    assert "one_shot_sync: changed" in done.stdout
    assert lab.clock_offset(host.name) == pytest.approx(0, abs=1)
