"""The clock, time daemon and backup steps over real SSH on centos6 lab hosts (3 h behind, ntpd stopped)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import yaml
from fabric import Connection

from lab import Lab, LabHost
from runbook.connect import connection_for, open_verified
from runbook.results import Outcome
from runbook.session import attach, session_of
from runbook.settings import Settings, build_settings
from runbook.steps import (
    check_date,
    one_shot_sync,
    rerun_backup,
    restart_daemon,
    start_enable_daemon,
    verify_clock,
)

pytestmark = pytest.mark.lab

THREE_HOURS = 3 * 3600.0
LabHostFactory = Callable[..., LabHost]


@pytest.fixture
def connect(lab: Lab) -> Iterator[Callable[[LabHost], Connection]]:
    opened: list[Connection] = []
    config = yaml.safe_load(lab.layout.runbook_yaml.read_text())["runbook"]
    settings: Settings = build_settings(config)

    def make(host: LabHost) -> Connection:
        c = connection_for(host.name, settings)
        open_verified(c, settings)
        attach(c, settings)
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.close()


def test_check_date_measures_three_hours_within_5_ms(
    lab: Lab, lab_host: LabHostFactory, connect: Callable[[LabHost], Connection]
) -> None:
    host = lab_host()
    result = check_date(connect(host))
    assert result.outcome is Outcome.OK, result.message
    assert len(result.commands) == 1  # the probe, clock samples included
    assert result.data["offset"] == pytest.approx(-lab.clock_offset(host.name), abs=0.05)
    assert result.data["offset"] == pytest.approx(THREE_HOURS, abs=5)
    assert result.data["bound"] <= 0.005, result.data
    assert "behind" in result.message and any("panic" in w for w in result.warnings)


def test_seed_incident_fixed_then_second_run_all_ok(
    lab: Lab, lab_host: LabHostFactory, connect: Callable[[LabHost], Connection]
) -> None:
    host = lab_host()
    c = connect(host)
    assert check_date(c).data["offset"] > 10000
    restarted = restart_daemon(c)
    assert restarted.outcome is Outcome.CHANGED, restarted.message
    assert (restarted.data["stop"], restarted.data["start"]) == ("failed", "ok")
    synced = one_shot_sync(c)
    assert synced.outcome is Outcome.CHANGED, synced.message
    assert synced.data["fallback"] is True and synced.data["stepped"] == pytest.approx(THREE_HOURS, abs=5)
    assert abs(lab.clock_offset(host.name)) < 1
    enabled = start_enable_daemon(c)
    assert enabled.outcome is Outcome.CHANGED and enabled.data["enabled"] is True, enabled.message
    verified = verify_clock(c)
    assert verified.outcome is Outcome.OK, verified.message
    assert verified.data["synchronised"] and verified.data["waited"] < 60
    backup = rerun_backup(c)
    assert backup.outcome is Outcome.CHANGED and backup.data["exit_code"] == 0, backup.message

    again = connect(host)
    for step in (check_date, restart_daemon, one_shot_sync, start_enable_daemon, verify_clock, rerun_backup):
        result = step(again)
        assert result.outcome is Outcome.OK, result
    assert session_of(again).facts is not None


def test_dry_run_changes_nothing(
    lab: Lab, lab_host: LabHostFactory, connect: Callable[[LabHost], Connection]
) -> None:
    host = lab_host()
    c = connect(host)
    for step in (restart_daemon, one_shot_sync, start_enable_daemon, rerun_backup):
        result = step(c, dry_run=True)
        assert result.outcome is Outcome.CHANGED and result.message.startswith("would"), result
    assert verify_clock(c, dry_run=True).outcome is Outcome.SKIPPED
    assert lab.clock_offset(host.name) == pytest.approx(-THREE_HOURS, abs=5)
    assert host.run("/sbin/service ntpd status").returncode != 0


def test_missing_ntpdate_is_a_clear_failure(
    lab_host: LabHostFactory, connect: Callable[[LabHost], Connection]
) -> None:
    c = connect(lab_host(ntpdate=False))
    result = one_shot_sync(c)
    # without ntpdate the step falls back to ntpd -gq; the lab's ntpd never syncs 3 h off: a bounded failure
    assert result.failed and "ntpd -gq" in result.message and result.duration < 60
