"""rerun_backup on MockContext hosts: fresh, missed, timeout, failure, dry run."""

from __future__ import annotations

import time

import pytest
from invoke.exceptions import CommandTimedOut
from invoke.runners import Result

from runbook import clock
from runbook.results import Outcome
from runbook.settings import BackupSettings
from runbook.steps import rerun_backup
from runbook.testing import commands, fake_host, fixed_reference, probe_output

RUN = "sh -c /usr/local/bin/backup.sh 2>&1"
FILE_ONLY = BackupSettings(
    command="/usr/local/bin/backup.sh", evidence_file="/var/lib/backup/last", max_age=3600
)
BOTH = BackupSettings(
    command="/usr/local/bin/backup.sh",
    evidence_file="/var/lib/backup/last",
    check_command="/usr/local/bin/backup-check 3600",
    max_age=3600,
    output_lines=2,
)


@pytest.fixture(autouse=True)
def reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "reference_time", lambda settings, **_: fixed_reference())


def test_no_backup_configured_is_skipped() -> None:
    result = rerun_backup(fake_host())
    assert result.outcome is Outcome.SKIPPED and commands(fake_host()) == []


def test_no_evidence_configured_is_skipped() -> None:
    result = rerun_backup(fake_host(backup=BackupSettings(command="b")))
    assert result.outcome is Outcome.SKIPPED and "evidence" in result.message


def test_fresh_evidence_file_is_not_rerun() -> None:
    c = fake_host(backup=FILE_ONLY, probe=probe_output(backup_file=str(int(time.time()) - 600)))
    result = rerun_backup(c)
    assert result.outcome is Outcome.OK and result.data["rerun"] is False
    assert result.data["age"] == pytest.approx(600, abs=5)
    assert RUN not in commands(c)


def test_missed_backup_is_rerun_with_its_tail() -> None:
    output = "".join(f"line {i}\n" for i in range(30))
    c = fake_host(
        backup=FILE_ONLY,
        probe=probe_output(backup_file=str(int(time.time()) - 27 * 3600)),
        run={RUN: Result(output)},
    )
    result = rerun_backup(c)
    assert result.outcome is Outcome.CHANGED, result.message
    assert result.data["rerun"] is True and result.data["exit_code"] == 0
    assert result.data["tail"] == [f"line {i}" for i in range(10, 30)]
    assert result.data["age"] == pytest.approx(27 * 3600, abs=5)
    assert "exit 0" in result.message and "1d 3h" in result.message and "max age 1h" in result.message


def test_age_is_measured_against_true_time_not_the_host_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # the controller itself is 2 h slow; the reference corrects it
    monkeypatch.setattr(clock, "reference_time", lambda settings, **_: fixed_reference(offset=7200))
    c = fake_host(
        backup=FILE_ONLY, probe=probe_output(backup_file=str(int(time.time()) - 600)), run={RUN: True}
    )
    result = rerun_backup(c)
    assert result.data["age"] == pytest.approx(7800, abs=5) and result.changed


def test_iso_evidence_and_unreadable_file() -> None:
    c = fake_host(
        backup=FILE_ONLY, probe=probe_output(backup_file="2017-08-21T03:30:00+09:00"), run={RUN: True}
    )
    assert rerun_backup(c).changed
    c = fake_host(
        backup=FILE_ONLY,
        probe=probe_output(
            backup_file="cat: /var/lib/backup/last: No such file or directory", backup_file_rc=1
        ),
        run={RUN: True},
    )
    result = rerun_backup(c)
    assert result.changed and "No such file" in result.message


def test_check_command_decides_when_both_are_set() -> None:
    fresh_file = str(int(time.time()) - 60)
    c = fake_host(
        backup=BOTH, probe=probe_output(backup_file=fresh_file, check=(1, "stale")), run={RUN: True}
    )
    result = rerun_backup(c)
    assert result.changed and result.data["last_success"] == float(fresh_file)
    assert "check command exit 1" in result.message
    old_file = str(int(time.time()) - 99999)
    c = fake_host(backup=BOTH, probe=probe_output(backup_file=old_file, check=(0, "fresh")))
    assert rerun_backup(c).outcome is Outcome.OK


def test_backup_failure_is_failed() -> None:
    c = fake_host(backup=BOTH, probe=probe_output(check=(1, "")), run={RUN: Result("disk full\n", exited=2)})
    result = rerun_backup(c)
    assert result.failed and result.data["exit_code"] == 2 and result.data["tail"] == ["disk full"]


def test_backup_timeout_is_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    c = fake_host(backup=BOTH, probe=probe_output(check=(1, "")))
    original = c.run

    def run(command: str, **kwargs: object) -> Result:
        if command == RUN:
            assert kwargs["timeout"] == 3600
            raise CommandTimedOut(Result("started\n", exited=-1), timeout=3600)
        return original(command, **kwargs)

    object.__setattr__(c, "run", run)
    result = rerun_backup(c)
    assert result.failed and "timed out after 3600 s" in result.message
    assert result.data["exit_code"] is None and result.data["tail"] == ["started"]
    assert any("still be running" in w for w in result.warnings)


def test_backup_dry_run_changes_nothing() -> None:
    c = fake_host(backup=BOTH, probe=probe_output(check=(1, "")))
    result = rerun_backup(c, dry_run=True)
    assert result.changed and result.message.startswith("would rerun the backup")
    assert RUN not in commands(c)


def test_backup_command_option_keeps_configured_evidence() -> None:
    run = "sh -c '/opt/other backup' 2>&1"
    c = fake_host(backup=BOTH, probe=probe_output(check=(1, "")), run={run: True})
    result = rerun_backup(c, backup_command="/opt/other backup")
    assert result.changed and commands(c)[-1] == run


def test_check_command_on_a_wrong_host_clock_yields_to_the_evidence_file() -> None:
    # 3 h behind, the host's own check thinks a 27 h old backup is 24 h old: fresh
    old_file = str(int(time.time()) - 27 * 3600)
    c = fake_host(offset=10800, backup=BOTH, probe=probe_output(backup_file=old_file, check=(0, "fresh")))
    result = rerun_backup(c, dry_run=True)
    assert result.changed and result.message.startswith("would rerun")
    assert any("evidence file decided" in w for w in result.warnings)
