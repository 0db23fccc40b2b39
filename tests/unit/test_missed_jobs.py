"""The missed_jobs step on MockContext: lists, reruns only the selected jobs once, dry run."""

from __future__ import annotations

import re
import shlex
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from invoke.context import Context, MockContext
from invoke.exceptions import CommandTimedOut
from invoke.runners import Result

from runbook.cron import rerun_command
from runbook.results import Outcome
from runbook.session import attach, session_of
from runbook.settings import BackupSettings, Settings, parse_window, with_overrides
from runbook.steps.missed_jobs import missed_jobs

WINDOW = "2017-08-22 02:00..05:00 Asia/Tokyo"
NOW = datetime(2017, 8, 22, 5, 30, tzinfo=ZoneInfo("Asia/Tokyo")).timestamp()
CRON_D = (
    "MAILTO=ops@example.com\n"
    "0 3 * * * root /usr/local/bin/backup --all\n"
    "30 6 * * * root /usr/local/bin/outside-window\n"
    "CRON_TZ=UTC\n"
    "30 17 * * * root /usr/local/bin/report\n"
)
ALICE = "HOME=/home/alice\n*/30 2-4 * * mon-fri /home/alice/bin/sync %hello\n@reboot /home/alice/agent\n"
FRAGMENT = re.compile(r"^LC_ALL=C sh -c ")
RERUN = re.compile(r"^sh -c ")


def _block(kind: str, name: str, body: str | None = None) -> str:
    text = f"B {kind} {name.encode().hex()}\n"
    return text if body is None else text + " ".join(f"{b:02x}" for b in body.encode()) + "\n"


def section(cron_d: str = CRON_D, alice: str = ALICE, last: str = "") -> str:
    """Fragment output for a Tokyo host with /etc/cron.d/backup and alice's crontab."""
    return (
        "@@runbook:cron@@\n"
        + _block("file", "/etc/timezone", "Asia/Tokyo\n")
        + _block("flag", "debian")
        + _block("dir", "/etc/cron.d")
        + _block("file", "/etc/cron.d/backup", cron_d)
        + _block("file", "/var/spool/cron/crontabs/alice", alice)
        + _block("out", "btime", "1500000000\n")
        + _block("out", "last", last)
    )


def _context(run: dict[Any, Any] | None = None, *, bound: str | None = None, **settings: Any) -> MockContext:
    c = MockContext(run=run or {})
    attach(c, with_overrides(Settings(), settings))
    if bound is not None:
        session_of(c).cron_section = bound
    return c


def _ok(stdout: str = "done\n") -> Result:
    return Result(stdout=stdout, exited=0)


def test_lists_the_jobs_due_in_the_window_and_reruns_none_unselected() -> None:
    result = missed_jobs(_context(bound=section(), window=parse_window(WINDOW)), now=NOW)
    assert result.outcome is Outcome.OK, result.message
    assert result.commands == []
    missed = {job["command"]: job for job in result.data["missed"]}
    assert sorted(missed) == ["/home/alice/bin/sync ", "/usr/local/bin/backup --all", "/usr/local/bin/report"]
    backup = missed["/usr/local/bin/backup --all"]
    assert backup["user"] == "root"
    assert backup["schedule"] == "0 3 * * *"
    assert backup["runs"] == [
        {"at": "2017-08-22T03:00:00+09:00", "utc": "2017-08-21T18:00:00+00:00", "host_reached": None}
    ]
    assert missed["/usr/local/bin/report"]["runs"][0]["at"] == "2017-08-21T17:30:00+00:00"
    assert len(missed["/home/alice/bin/sync "]["runs"]) == 6
    assert missed["/home/alice/bin/sync "]["stdin"] == "hello\n"
    assert [e["command"] for e in result.data["reboot"]] == ["/home/alice/agent"]
    assert result.data["window"]["source"] == "given"
    assert result.data["zone"] == "Asia/Tokyo"
    assert len(result.data["not_selected"]) == 3
    assert result.message == "3 job(s) due in the window (given); none rerun"


def test_reruns_only_the_selected_job_once_as_its_user() -> None:
    c = _context({RERUN: _ok("backup ok\n")}, bound=section(), window=parse_window(WINDOW))
    result = missed_jobs(c, rerun=["backup"], now=NOW)
    assert result.outcome is Outcome.CHANGED, result.message
    (command,) = result.commands
    assert command.command.startswith("sh -c ")
    assert "/usr/local/bin/backup --all" in command.command
    assert "MAILTO=ops@example.com" in command.command
    (backup,) = [job for job in result.data["missed"] if job["selected"]]
    assert backup["rerun"]["state"] == "ran"
    assert backup["rerun"]["exit_code"] == 0
    assert backup["rerun"]["tail"] == ["backup ok"]
    assert result.data["not_selected"] == [job["id"] for job in result.data["missed"] if not job["selected"]]
    assert "reran 1, 2 not rerun" in result.message
    again = missed_jobs(c, rerun=["backup", "/usr/local/bin/*"], now=NOW)
    assert again.outcome is Outcome.CHANGED
    assert [cmd.command for cmd in again.commands] == [rerun_command_for_report()]
    notes = {job["command"]: job["rerun"]["note"] for job in again.data["missed"] if job["selected"]}
    assert notes["/usr/local/bin/backup --all"] == "not rerun: already rerun in this run"


def rerun_command_for_report() -> str:
    from runbook.cron import parse_crontab

    entry = parse_crontab(CRON_D, source="/etc/cron.d/backup", zone="Asia/Tokyo").entries[2]
    return rerun_command(entry, timeout=3600.0)


def test_a_user_job_reruns_through_su_with_its_stdin() -> None:
    c = _context({RERUN: _ok()}, bound=section(), window=parse_window(WINDOW))
    result = missed_jobs(c, rerun="sync", now=NOW)
    (command,) = result.commands
    script = shlex.split(command.command)[2]
    assert "su -s /bin/sh alice -c" in script
    assert "hello" in script
    assert "LOGNAME=alice" in script


def test_dry_run_reruns_nothing() -> None:
    c = _context(bound=section(), window=parse_window(WINDOW), dry_run=True)
    result = missed_jobs(c, rerun=["backup"], now=NOW)
    assert result.outcome is Outcome.CHANGED
    assert result.dry_run
    assert result.commands == []
    assert "would rerun 1" in result.message
    (backup,) = [job for job in result.data["missed"] if job["selected"]]
    assert backup["rerun"]["note"] == "would rerun as root"
    assert not session_of(c).already_rerun("root", "/usr/local/bin/backup --all")


def test_failure_exit_code_fails_the_step() -> None:
    c = _context(
        {RERUN: Result(stdout="", stderr="disk full\n", exited=2)},
        bound=section(),
        window=parse_window(WINDOW),
    )
    result = missed_jobs(c, rerun=["backup"], now=NOW)
    assert result.outcome is Outcome.FAILED
    assert "rerun failed" in result.message
    assert "exit 2" in result.message
    (backup,) = [job for job in result.data["missed"] if job["selected"]]
    assert backup["rerun"]["tail"] == ["disk full"]


def test_remote_timeout_fails_the_step() -> None:
    c = _context({RERUN: Result(exited=124)}, bound=section(), window=parse_window(WINDOW))
    result = missed_jobs(c, rerun=["backup"], timeout="10m", now=NOW)
    assert result.failed
    assert "timed out after 600 s" in result.message
    assert "timeout -k 10 600" in result.commands[0].command


class _Hangs(Context):
    def run(self, command: str, **kwargs: Any) -> Result:
        raise CommandTimedOut(
            Result(command=command, stdout="partial\n", exited=-1), timeout=kwargs["timeout"]
        )


def test_controller_timeout_is_recorded() -> None:
    c = _Hangs()
    attach(c, Settings(window=parse_window(WINDOW)))
    session_of(c).cron_section = section()
    result = missed_jobs(c, rerun=["backup"], timeout=60, now=NOW)
    assert result.failed
    assert result.commands[0].exit_code is None
    assert "no answer: timed out after 90 s" in result.message


def test_already_rerun_by_another_step_is_not_rerun() -> None:
    c = _context(bound=section(), window=parse_window(WINDOW))
    session_of(c).mark_rerun("root", "/usr/local/bin/backup --all")
    result = missed_jobs(c, rerun=["backup"], now=NOW)
    assert result.commands == []
    assert result.outcome is Outcome.OK


def test_a_job_the_backup_step_reran_says_so_even_when_not_selected() -> None:
    backup = "/usr/local/bin/backup --all"
    c = _context(bound=section(), window=parse_window(WINDOW), backup=BackupSettings(command=backup))
    session_of(c).mark_rerun("root", backup)
    result = missed_jobs(c, now=NOW)
    assert result.commands == []
    job = next(job for job in result.data["missed"] if job["command"] == backup)
    assert job["selected"] is False
    assert job["rerun"]["state"] == "by_backup"
    assert job["id"] not in result.data["not_selected"]
    assert "1 rerun by the backup step" in result.message


def test_hostile_patterns_and_values_stay_quoted() -> None:
    hostile = "0 3 * * * root /bin/echo $(touch /tmp/pwned) `id` ; rm -rf / 'x\"\n"
    c = _context({RERUN: _ok()}, bound=section(cron_d=hostile), window=parse_window(WINDOW))
    result = missed_jobs(c, rerun=["$(touch /tmp/x)", "/bin/echo*", "`id`;"], now=NOW)
    (command,) = result.commands
    words = shlex.split(command.command)
    assert words[:2] == ["sh", "-c"]
    assert len(words) == 3
    assert any("$(touch /tmp/x)" in w for w in result.warnings)
    assert "`id`;" in result.data["unmatched"]


def test_runs_the_fragment_itself_when_no_section_is_bound() -> None:
    c = _context({FRAGMENT: _ok(section())}, window=parse_window(WINDOW))
    result = missed_jobs(c, now=NOW)
    assert result.outcome is Outcome.OK
    assert result.commands[0].command.startswith("LC_ALL=C sh -c ")
    assert "@@runbook:cron@@" in result.commands[0].command


def test_unreadable_cron_setup_fails() -> None:
    c = _context({FRAGMENT: Result(exited=1)}, window=parse_window(WINDOW))
    assert missed_jobs(c, now=NOW).failed


def test_without_a_window_it_is_inferred_from_the_clock_lag() -> None:
    c = _context(bound=section())
    result = missed_jobs(c, clock_offset=3 * 3600.0, now=NOW)
    assert result.data["window"]["source"] == "inferred from the 3 h clock lag"
    runs = {job["command"]: job["runs"] for job in result.data["missed"]}
    assert [run["host_reached"] for run in runs["/usr/local/bin/backup --all"]] == [False]
    assert "clock lag" in result.message


def test_without_a_window_or_clue_it_is_skipped() -> None:
    result = missed_jobs(_context(bound=section()), now=NOW)
    assert result.outcome is Outcome.SKIPPED
    assert "--window" in result.message


def test_reboot_window_from_shutdown_record() -> None:
    last = "shutdown system down  4.9.0 Tue Aug 22 02:00:03 2017 - Tue Aug 22 05:00:12 2017  (03:00)\n"
    text = section(last=last).replace(
        _block("out", "btime", "1500000000\n"), _block("out", "btime", f"{int(NOW) - 1788}\n")
    )
    result = missed_jobs(_context(bound=text), now=NOW)
    assert result.data["window"]["source"].startswith("inferred from the shutdown at 2017-08-21 17:00 UTC")
    assert len(result.data["missed"]) == 3


def test_unknown_zone_falls_back_to_settings_with_a_warning() -> None:
    text = section().replace(_block("file", "/etc/timezone", "Asia/Tokyo\n"), "")
    result = missed_jobs(_context(bound=text, window=parse_window(WINDOW), timezone="UTC"), now=NOW)
    assert result.data["zone"] == "UTC"
    assert any("time zone is unknown" in w for w in result.warnings)


def _read_after_a_fix(btime: int, host_now: int) -> str:
    """The step's own read: btime and the host's ``date`` (a Tokyo host), after the clock was fixed."""
    fresh = section().replace(_block("out", "btime", "1500000000\n"), _block("out", "btime", f"{btime}\n"))
    return fresh + _block("out", "date", f"{host_now} +0900\n")


def test_a_boot_time_read_after_the_fix_is_not_shifted_by_the_lag_measured_before_it() -> None:
    """A VM booted 50 s (host clock) before a 75 s pause was fixed: its btime is read after the fix,
    with no probe facts left, so the first offset no longer applies (it put the boot in the future)."""
    c = _context({FRAGMENT: _ok(_read_after_a_fix(int(NOW) - 50, int(NOW)))})
    result = missed_jobs(c, clock_offset=75.0, now=NOW)
    assert result.outcome is not Outcome.SKIPPED, result.message
    assert result.data["window"]["source"].startswith("inferred from the boot at 2017-08-21 20:29 UTC")


def test_a_boot_time_read_before_any_fix_is_corrected_by_the_offset_then() -> None:
    c = _context({FRAGMENT: _ok(_read_after_a_fix(int(NOW) - 75 - 50, int(NOW) - 75))})
    result = missed_jobs(c, clock_offset=75.0, now=NOW)
    assert result.data["window"]["source"].startswith("inferred from the boot at 2017-08-21 20:29 UTC")


def _unread(btime: int) -> str:
    """What the probe prints when told to read only the boot (scope ``boot``, an old boot)."""
    return "@@runbook:cron@@\n" + _block("out", "btime", f"{btime}\n") + _block("flag", "unread")


def test_an_unread_setup_without_a_window_is_skipped_without_a_command() -> None:
    c = _context(bound=_unread(int(NOW) - 40 * 86400))
    result = missed_jobs(c, clock_offset=0.2, now=NOW)
    assert result.outcome is Outcome.SKIPPED and "--window" in result.message
    assert result.commands == [] and not result.warnings


def test_an_unread_setup_is_read_when_a_window_is_inferred_after_all() -> None:
    c = _context({FRAGMENT: _ok(section())}, bound=_unread(int(NOW) - 40 * 86400))
    result = missed_jobs(c, clock_offset=3 * 3600.0, now=NOW)
    assert result.data["window"]["source"] == "inferred from the 3 h clock lag"
    assert len(result.commands) == 1 and "@@runbook:cron@@" in result.commands[0].command
    assert {job["command"] for job in result.data["missed"]} >= {"/usr/local/bin/backup --all"}


def test_an_unread_setup_is_read_when_a_window_is_given() -> None:
    c = _context(
        {FRAGMENT: _ok(section())}, bound=_unread(int(NOW) - 40 * 86400), window=parse_window(WINDOW)
    )
    result = missed_jobs(c, now=NOW)
    assert result.outcome is Outcome.OK and len(result.commands) == 1
