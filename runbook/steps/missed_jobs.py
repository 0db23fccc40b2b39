"""List the cron jobs that were due inside the maintenance window; rerun the selected ones.

The host's cron setup comes from the ``cron`` probe section (``runbook.cron.fragment``):
the session's ``cron_section`` or the cached facts when the probe carried it,
otherwise the step runs the fragment itself (read-only) and records that command. The
window is ``--window`` when given, else inferred from the host (``runbook.cron.window``).
When the probe found the clock right and the boot old, it read only the boot time (flag
``unread``), or that and the cron files (flag ``jobs-only``, for ``compare``): no window can be
inferred, so the step is skipped without a command (should one be inferred after all, the step
reads the whole setup itself).
A job is rerun at most once per host run (the session's ``reruns`` are shared with any other
step that reruns cron jobs) and never in a dry run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from invoke.context import Context

from runbook.commands import StepRecorder, step
from runbook.cron import (
    TIMED_OUT,
    CronEntry,
    CronSnapshot,
    DueJob,
    anacron_stamps,
    cron_command,
    find_missed,
    host_reached,
    host_zone,
    infer_window,
    parse_btime,
    parse_cron_section,
    parse_last,
    parse_uptime_since,
    read_schedule,
    rerun_command,
    select,
)
from runbook.cron.catchup import NOTE as CRON_NOTE
from runbook.cron.catchup import caught_up_by_cron
from runbook.durations import parse_duration
from runbook.errors import ClockUnreadable, NTPUnavailable, RerunError
from runbook.facts import cached_facts
from runbook.results import CommandRecord, Outcome, StepResult
from runbook.session import session_of, settings_for
from runbook.settings import Settings, Window
from runbook.stepdata import MissedJobs
from runbook.steps.backup import true_now as ntp_now
from runbook.steps.clock import first_offset, host_offset
from runbook.steps.timesync import clock_changed

DEFAULT_TIMEOUT = 3600.0
"""Seconds a rerun job may take when neither ``timeout`` nor ``backup.timeout`` is set."""


NO_WINDOW = "no maintenance window given or inferred (--window START..END)"


@step("missed_jobs", title="missed cron jobs", data=MissedJobs, needs=("check_date",))
def missed_jobs(
    c: Context,
    rec: StepRecorder,
    window: str | None = None,
    rerun: Sequence[str] | str | None = None,
    clock_offset: float | None = None,
    now: float | None = None,
    timeout: str | float | None = None,
    output_lines: int = 20,
    dry_run: bool = False,
) -> StepResult:
    """List the jobs due in the window; rerun those ``rerun`` patterns select.

    ``clock_offset`` is true minus host time in seconds (positive: host behind), ``now``
    true time as epoch seconds (default: the controller's clock). ``failed`` when the cron
    setup cannot be read or a rerun fails, ``changed`` when a job was (or would be) rerun,
    ``skipped`` when no window is given or can be inferred.
    """
    settings = settings_for(c, window=window)
    dry = rec.dry_run = dry_run or settings.dry_run
    patterns = _patterns(rerun if rerun is not None else settings.rerun)
    if clock_offset is None:
        clock_offset = _measured_offset(c)
    true_now = datetime.fromtimestamp(ntp_now(rec, settings) if now is None else now, UTC)
    snapshot, boot_offset = _snapshot(c, rec, settings, true_now)
    if snapshot is not None and snapshot.flags & {"unread", "jobs-only"}:
        boot_only = settings.window or _infer(
            snapshot, settings.records.timezone, true_now, clock_offset, boot_offset
        )
        if boot_only is None:
            rec.data.update(clock_offset=clock_offset)
            return rec.finish(Outcome.SKIPPED, NO_WINDOW)
        snapshot, boot_offset = _read_here(c, rec, settings, true_now)
    if snapshot is None:
        return rec.finish(Outcome.FAILED, "could not read the host's cron setup")
    zone = host_zone(snapshot)
    if zone is None:
        zone = settings.records.timezone
        rec.warnings.append(
            f"the host's time zone is unknown: schedules read in {zone} (settings.records.timezone)"
        )
    found = settings.window or _infer(snapshot, zone, true_now, clock_offset, boot_offset)
    table = read_schedule(snapshot, zone)
    rec.warnings.extend(str(problem) for problem in table.problems)
    rec.warnings.extend(snapshot.notes)
    rec.data.update(zone=zone, clock_offset=clock_offset, problems=[str(p) for p in table.problems])
    if found is None:
        return rec.finish(Outcome.SKIPPED, NO_WINDOW)
    report = find_missed(table.entries, found, anacron_stamps=anacron_stamps(snapshot))
    chosen, unused = select(report.due, patterns)
    rec.warnings.extend(f"--rerun {p!r} matched no job due in the window" for p in unused)
    limit = _timeout(timeout, settings)
    picked = {job.entry.id for job in chosen}
    by_backup_step = [
        job
        for job in report.due
        if job.entry.id not in picked and session_of(c).already_rerun(job.entry.user, job.entry.command)
    ]
    to_cron = {job.entry.id for job in chosen if _left_to_cron(c, snapshot, job)}
    reruns = {
        job.entry.id: _by_cron()
        if job.entry.id in to_cron
        else _rerun(c, rec, job.entry, dry, limit, output_lines, settings)
        for job in [*chosen, *by_backup_step]
    }
    rec.data.update(
        window=_window(found),
        missed=[
            _job(job, reruns.get(job.entry.id), job.entry.id in picked, true_now, clock_offset)
            for job in report.due
        ],
        reboot=[_entry(entry) for entry in report.reboot],
        anacron=[{**_entry(a.entry), "due": a.due, "reason": a.reason} for a in report.anacron],
        not_selected=[job.entry.id for job in report.due if job.entry.id not in reruns],
        unmatched=unused,
    )
    return _finish(rec, report.due, reruns, found, dry)


def _measured_offset(c: Context) -> float | None:
    """The clock offset check_date measured before any fix (the lag a pause left), if it ran."""
    measured = first_offset(c)
    return None if measured is None else measured.offset


def _snapshot(
    c: Context, rec: StepRecorder, settings: Settings, true_now: datetime
) -> tuple[CronSnapshot | None, float | None]:
    """The cron setup and the clock offset when its boot time was read (None: unknown)."""
    text = session_of(c).cron_section
    if text is None:
        facts = cached_facts(c)
        text = facts.cron if facts is not None else None
    if text is not None:
        return parse_cron_section(text), _current_offset(c, settings)
    return _read_here(c, rec, settings, true_now)


def _read_here(
    c: Context, rec: StepRecorder, settings: Settings, true_now: datetime
) -> tuple[CronSnapshot | None, float | None]:
    """The whole cron setup, read by the fragment as a command of its own, and the offset then.

    The fragment's ``date`` line (host epoch seconds, read beside btime) against ``true_now``
    gives that offset to about a second: the clock may have been fixed since the probe.
    """
    record = rec.run(
        c,
        cron_command(),
        timeout=settings.fleet.command_timeout,
        sudo_password=settings.ssh.sudo_password,
    )
    if record.exit_code != 0 or "@@runbook:cron@@" not in record.stdout:
        return None, None
    snapshot = parse_cron_section(record.stdout)
    words = snapshot.outputs.get("date", "").split()
    read_at = words[0] if words and words[0].isdecimal() and words[0].isascii() else None
    return snapshot, None if read_at is None else true_now.timestamp() - int(read_at)


def _current_offset(c: Context, settings: Settings) -> float | None:
    """The offset at the latest probe, whose btime the snapshot holds (None if unmeasured)."""
    facts = cached_facts(c)
    if facts is None:
        return None
    try:
        return host_offset(settings, facts).offset
    except (ClockUnreadable, NTPUnavailable):
        return None


def _infer(
    snapshot: CronSnapshot, zone: str, now: datetime, offset: float | None, boot_offset: float | None
) -> Window | None:
    boot = parse_btime(snapshot.outputs.get("btime", ""))
    if boot is None:
        boot = parse_uptime_since(snapshot.outputs.get("uptime-s", ""), zone)
    shutdowns = parse_last(snapshot.outputs.get("last", ""), zone)
    return infer_window(now=now, boot=boot, shutdowns=shutdowns, offset=offset, boot_offset=boot_offset)


def _left_to_cron(c: Context, snapshot: CronSnapshot, job: DueJob) -> bool:
    """Whether the host's cron runs ``job`` itself after this run stepped the clock forward."""
    measured = first_offset(c)
    if measured is None or not clock_changed(c):
        return False
    return caught_up_by_cron(snapshot.flags, job.runs, measured.host_time, measured.offset)


def _by_cron() -> dict[str, Any]:
    return {"state": "by_cron", "exit_code": None, "duration": None, "tail": [], "note": CRON_NOTE}


def _rerun(
    c: Context,
    rec: StepRecorder,
    entry: CronEntry,
    dry: bool,
    limit: float,
    output_lines: int,
    settings: Settings,
) -> dict[str, Any]:
    result: dict[str, Any] = {"state": "skipped", "exit_code": None, "duration": None, "tail": [], "note": ""}
    try:
        command = rerun_command(entry, timeout=limit)
    except RerunError as exc:
        result["note"] = f"not rerun: {exc}"
        return result
    if session_of(c).already_rerun(entry.user, entry.command):
        by_backup = settings.backup is not None and settings.backup.command.strip() == entry.command.strip()
        if by_backup and dry:
            result.update(state="would", note="would be rerun by the backup step")
        elif by_backup:
            result.update(state="by_backup", note="rerun by the backup step")
        else:
            result["note"] = "not rerun: already rerun in this run"
    elif dry:
        result.update(state="would", note=f"would rerun as {entry.user}")
    else:
        session_of(c).mark_rerun(entry.user, entry.command)
        record = rec.run(
            c, command, timeout=limit + 30, parse=False, sudo_password=settings.ssh.sudo_password
        )
        result.update(state="ran", exit_code=record.exit_code, duration=round(record.duration, 3))
        result["tail"] = _tail(record, output_lines)
        result["note"] = _note(record, limit)
    return result


def _note(record: CommandRecord, limit: float) -> str:
    if record.exit_code is None:
        return f"no answer: {record.note or 'did not finish'}"
    if record.exit_code == TIMED_OUT:
        return f"timed out after {limit:g} s"
    return "" if record.exit_code == 0 else f"exit {record.exit_code}"


def _finish(
    rec: StepRecorder, due: Sequence[DueJob], reruns: dict[str, dict[str, Any]], window: Window, dry: bool
) -> StepResult:
    head = f"{len(due)} job(s) due in the window ({window.source})"
    states = {state: [job_id for job_id, r in reruns.items() if r["state"] == state] for state in _STATES}
    failed = [job_id for job_id in states["ran"] if reruns[job_id]["exit_code"] != 0]
    left = len(due) - sum(len(states[state]) for state in ("ran", "would", "by_backup", "by_cron"))
    counts = [words.format(len(states[state])) for state, words in _STATES.items() if states[state]]
    tail = ", ".join([*counts, f"{left} not rerun"]) if counts else "none rerun"
    if failed:
        parts = [f"{job_id}: {reruns[job_id]['note']}" for job_id in failed]
        return rec.finish(Outcome.FAILED, f"{head}; rerun failed: {'; '.join(parts)}")
    if states["ran"] or (dry and states["would"]):
        return rec.finish(Outcome.CHANGED, f"{head}; {tail}")
    return rec.finish(Outcome.OK, f"{head}; {tail}")


_STATES = {
    "ran": "reran {}",
    "would": "would rerun {}",
    "by_backup": "{} rerun by the backup step",
    "by_cron": "{} left to the host's cron (it runs what the clock step skipped)",
}


def _patterns(value: Sequence[str] | str) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item.strip()]


def _timeout(value: str | float | None, settings: Settings) -> float:
    if value is not None:
        return parse_duration(value)
    return settings.backup.timeout if settings.backup is not None else DEFAULT_TIMEOUT


def _window(window: Window) -> dict[str, str]:
    return {"start": window.start.isoformat(), "end": window.end.isoformat(), "source": window.source}


def _entry(entry: CronEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "source": entry.source,
        "line": entry.line,
        "user": entry.user,
        "schedule": entry.schedule,
        "command": entry.command,
        "tz": entry.tz,
        "via": entry.via,
        "stdin": entry.stdin,
    }


def _job(
    job: DueJob, rerun: dict[str, Any] | None, selected: bool, now: datetime, offset: float | None
) -> dict[str, Any]:
    runs = [
        {
            "at": run.isoformat(),
            "utc": run.astimezone(UTC).isoformat(),
            "host_reached": None if offset is None else host_reached(run, now, offset),
        }
        for run in job.runs
    ]
    return {
        **_entry(job.entry),
        "runs": runs,
        "truncated": job.truncated,
        "selected": selected,
        "rerun": rerun,
    }


def _tail(record: CommandRecord, lines: int) -> list[str]:
    text = (record.stdout + record.stderr).rstrip("\n")
    return text.split("\n")[-lines:] if text else []
