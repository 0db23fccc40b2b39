"""A fleet of 20 through the real CLI: unreachable, refused, broken and fine hosts, then --rerun-failed.

Uses the session's shared ``lab``, grown to 15 hosts with ``lab.up(hosts=15)`` (``up`` is
additive and idempotent, so the lab stays one lab on one instance); the other five names
are aliases in an ssh_config of the test's own: three at addresses in the lab subnet that
nobody answers, two at real lab hosts with a user that does not exist.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from record_checks import validate_fleet

from lab import Lab, network

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.lab

REAL = 15
BROKEN = [f"lab{n}" for n in range(1, 6)]
FINE = [f"lab{n}" for n in range(6, REAL + 1)]
UNREACHABLE = ["gone1", "gone2", "gone3"]
REFUSED = ["refused1", "refused2"]


def post_maint(
    lab: Lab, ssh_config: Path, records: Path, *args: str, parallel: int = 20
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "invoke", "-r", str(ROOT), "-f", str(lab.layout.runbook_yaml), "post-maint"]
    argv += [
        "--ssh-config",
        str(ssh_config),
        "--record-dir",
        str(records),
        "--parallel",
        str(parallel),
        *args,
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)


def fleet_record(records: Path) -> dict[str, Any]:
    paths = sorted(records.glob("fleet-*.json"))
    assert len(paths) == 1, list(records.iterdir())
    data: dict[str, Any] = json.loads(paths[0].read_text())
    validate_fleet(data)
    return data


@pytest.fixture
def fleet_config(lab: Lab, tmp_path: Path) -> Path:
    """The lab's ssh_config plus the five hosts that cannot be used, and a group of all 20."""
    lab.up(profile="centos6", hosts=REAL)
    for name in BROKEN:
        lab.reset(name)
    for name in FINE:
        lab.reset(name, offset="0", daemon="running")
    base = lab.layout.ssh_config.read_text()
    lab1 = base.split("Host lab1\n", 1)[1].split("\nHost ", 1)[0]
    extra = []
    for n, name in enumerate(UNREACHABLE):
        extra.append(f"Host {name}\n    HostName {network.SUBNET_PREFIX}.{251 + n}\n    User root\n")
    for n, name in enumerate(REFUSED):
        address = network.host_node(REAL - n).address
        settings = lab1.replace("User root", "User nosuchuser").split("\n")
        settings = [line for line in settings if not line.strip().startswith("HostName")]
        extra.append(f"Host {name}\n    HostName {address}\n" + "\n".join(settings) + "\n")
    group = " ".join([*BROKEN, *FINE, *UNREACHABLE, *REFUSED])
    path = tmp_path / "ssh_config"
    path.write_text(f"# runbook-group night: {group}\n{base}\n" + "\n".join(extra))
    return path


def test_fleet_of_twenty_accounts_for_every_host_then_reruns_only_the_failed(
    lab: Lab, fleet_config: Path, tmp_path: Path
) -> None:
    first = tmp_path / "first"
    done = post_maint(lab, fleet_config, first, "--host", "@night")
    assert done.returncode == 1, done.stdout + done.stderr
    record = fleet_record(first)
    outcomes = {line["host"]: line for line in record["hosts"]}
    assert list(outcomes) == [*BROKEN, *FINE, *UNREACHABLE, *REFUSED]
    for name in BROKEN:
        assert outcomes[name]["outcome"] == "changed", outcomes[name]
        assert "one-shot sync" in outcomes[name]["changes"]
        assert lab.clock_offset(name) == pytest.approx(0, abs=1)
    for name in FINE:
        assert outcomes[name]["outcome"] in ("ok", "changed"), outcomes[name]
    for name in UNREACHABLE:
        assert outcomes[name]["outcome"] == "failed"
        assert "unreachable" in outcomes[name]["left"][0], outcomes[name]
    for name in REFUSED:
        assert outcomes[name]["outcome"] == "failed"
        assert "authentication failed for nosuchuser@" in outcomes[name]["left"][0], outcomes[name]
    assert record["label"] == "FAILED (5 of 20 hosts)"
    assert record["totals"]["hosts"] == 20 and record["totals"]["connections"] == REAL
    for line in record["hosts"]:
        assert line["record"] and (first / line["record"]).is_file()
    markdown = sorted(first.glob("fleet-*.md"))[0].read_text()
    assert all(f"| {name} |" in markdown for name in outcomes)
    assert "unreachable" in done.stdout and "(host)" in done.stdout  # plain progress lines off a TTY

    again = tmp_path / "again"
    rerun = post_maint(lab, fleet_config, again, "--rerun-failed", str(sorted(first.glob("fleet-*.json"))[0]))
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr
    assert [line["host"] for line in fleet_record(again)["hosts"]] == [*UNREACHABLE, *REFUSED]
    touched = {
        path.name.rsplit("-", 1)[0] for path in again.glob("*.json") if not path.name.startswith("fleet-")
    }
    assert touched == {*UNREACHABLE, *REFUSED}


def test_a_healthy_host_costs_one_connection_and_one_command(
    lab: Lab, fleet_config: Path, tmp_path: Path
) -> None:
    fix = post_maint(lab, fleet_config, tmp_path / "fix", "--host", "lab1")
    assert fix.returncode == 0, fix.stdout + fix.stderr
    done = post_maint(lab, fleet_config, tmp_path / "healthy", "--host", "lab1")
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads(sorted((tmp_path / "healthy").glob("lab1-*.json"))[0].read_text())
    assert record["outcome"] == "ok", record["results"]
    assert record["connections"] == 1 and record["commands"] == 1
    probe = record["results"][0]["commands"][0]
    assert record["round_trips"] == probe["round_trips"] == 1 + record["results"][0]["data"]["samples"]


def test_fail_fast_leaves_the_rest_not_run(lab: Lab, fleet_config: Path, tmp_path: Path) -> None:
    done = post_maint(
        lab, fleet_config, tmp_path, "--fail-fast", "--host", "gone1", "--host", "lab*", parallel=1
    )
    assert done.returncode == 1, done.stdout + done.stderr
    record = fleet_record(tmp_path)
    assert [line["host"] for line in record["hosts"]] == ["gone1", *[f"lab{n}" for n in range(1, REAL + 1)]]
    assert record["stopped"] == "--fail-fast stopped the fleet after gone1 failed"
    assert all(
        line["left"] == [f"Host error: not run: {record['stopped']}. Fix it, then run post-maint again."]
        for line in record["hosts"][1:]
    )
    assert record["totals"]["connections"] == 0


def test_max_fail_percent_stops_once_too_many_failed(lab: Lab, fleet_config: Path, tmp_path: Path) -> None:
    done = post_maint(
        lab,
        fleet_config,
        tmp_path,
        "--max-fail-percent",
        "10%",
        "--host",
        "refused*",
        "--host",
        "lab*",
        parallel=1,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    record = fleet_record(tmp_path)
    assert [line["outcome"] for line in record["hosts"]] == ["failed"] * (2 + REAL)
    assert record["stopped"] == f"2 of {2 + REAL} hosts failed, over --max-fail-percent 10"
    assert "stopped starting hosts: 2 of 17 hosts failed" in done.stderr
    assert record["totals"]["connections"] == 0
