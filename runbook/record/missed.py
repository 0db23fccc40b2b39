"""The record's "Missed cron jobs" section, worked out from the ``missed_jobs`` step's data.

The data may come from a journal or an older run, so every value is read defensively: a
missing or malformed field gives a blank, never an error. Text here is plain; the template
escapes it (``cell``, ``code_cell``, ``text``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from runbook.record import text
from runbook.results import HostRun, StepResult

STEP = "missed_jobs"
RUNS_SHOWN = 4


@dataclass
class MissedJobRow:
    """One cron job that was due in the window, as a table row."""

    job: str
    schedule: str
    user: str
    command: str
    runs: str
    rerun: str


@dataclass
class MissedJobsView:
    """The window, a row per due job, what was rerun, what was left, and anacron's due jobs."""

    window: str
    source: str
    rows: list[MissedJobRow] = field(default_factory=list)
    rerun: list[str] = field(default_factory=list)
    not_rerun: list[str] = field(default_factory=list)
    anacron: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def missed_view(run: HostRun) -> MissedJobsView | None:
    """The section's content, or ``None`` when the step did not run or found no window."""
    result = run.result(STEP)
    window = _dict(result.data.get("window")) if result is not None else {}
    if result is None or not window:
        return None
    name = str(result.data.get("zone") or "UTC")
    zone = _zone(name)
    view = MissedJobsView(window=window_span(window, zone), source=str(window.get("source", "")))
    for job in _dicts(result.data.get("missed")):
        row = _row(job, name, zone)
        view.rows.append(row)
        done = _dict(job.get("rerun")).get("state") in {"ran", "by_backup"}
        (view.rerun if done else view.not_rerun).append(f"{row.command} ({row.job}): {row.rerun}")
    for job in _dicts(result.data.get("anacron")):
        if job.get("due") is True:
            view.anacron.append(f"{job.get('command', '')} ({job.get('id', '')}): {job.get('reason', '')}")
    view.problems = [str(problem) for problem in result.data.get("problems") or [] if problem]
    return view


def missed_summary(run: HostRun) -> str:
    """One line for the summary: how many jobs were due, which were rerun, which were left."""
    result = run.result(STEP)
    view = missed_view(run)
    if result is None or view is None:
        return "" if result is None else f"Not checked: {text.one_line(result.message)}"
    due = len(view.rows)
    line = f"{_count(due, 'cron job')} due in the window {view.window} ({view.source})"
    if due:
        rerun = f"{_would(result)} would be rerun" if result.dry_run else f"{len(view.rerun)} rerun"
        line += f": {rerun}, {len(view.not_rerun)} missed and not rerun"
    if view.anacron:
        line += f"; {_count(len(view.anacron), 'anacron job')} due (anacron runs them itself)"
    return line + "."


def window_row(run: HostRun) -> str:
    """The inferred window with how it was inferred, for the header (empty if none)."""
    view = missed_view(run)
    return f"{view.window} ({view.source})" if view is not None else ""


def window_span(window: dict[str, Any], zone: tzinfo) -> str:
    """``START–END`` in the host's zone, then UTC when the zone is not UTC."""
    start, end = _moment(window.get("start")), _moment(window.get("end"))
    if start is None or end is None:
        return "unknown"
    utc = text.span(start.astimezone(UTC), end.astimezone(UTC), False)
    local = text.span(start.astimezone(zone), end.astimezone(zone), False)
    return utc if local == utc else f"{local} ({utc})"


def _row(job: dict[str, Any], name: str, zone: tzinfo) -> MissedJobRow:
    schedule = str(job.get("schedule", ""))
    tz = job.get("tz")
    own = _zone(tz) if isinstance(tz, str) and tz and tz != name else None
    if own is not None:
        schedule += f" (CRON_TZ={tz})"
    times = (_moment(_dict(item).get("at")) for item in _list(job.get("runs")))
    runs = [moment for moment in times if moment is not None]
    shown = [_run_time(moment, zone, own) for moment in runs[:RUNS_SHOWN]]
    if len(runs) > RUNS_SHOWN or job.get("truncated") is True:
        shown.append(f"… {len(runs) - RUNS_SHOWN if len(runs) > RUNS_SHOWN else 'more'} more")
    return MissedJobRow(
        job=str(job.get("id", "")),
        schedule=schedule,
        user=str(job.get("user", "")),
        command=str(job.get("command", "")),
        runs="; ".join(shown),
        rerun=_rerun_words(job),
    )


def _rerun_words(job: dict[str, Any]) -> str:
    rerun = _dict(job.get("rerun"))
    state, note = rerun.get("state"), str(rerun.get("note") or "")
    if not job.get("selected") or not rerun:
        return "not selected"
    if state == "by_backup":
        return "rerun by the backup step"
    if state == "would":
        return "would rerun (dry run)"
    if state != "ran":
        return note or "not rerun"
    took = text.number(rerun.get("duration"))
    timing = f" in {text.seconds(took)}" if took is not None else ""
    if rerun.get("exit_code") == 0:
        return f"rerun: exit 0{timing}"
    return f"rerun FAILED: {note or 'exit ' + str(rerun.get('exit_code'))}{timing}"


def _run_time(moment: datetime, zone: tzinfo, own: tzinfo | None) -> str:
    """``2026-11-25 23:56 JST (14:56 UTC)`` in the host's zone; a CRON_TZ job adds its own wall time."""
    local = moment.astimezone(zone)
    first = local.strftime(f"%Y-%m-%d %H:%M {local.tzname()}")
    extra = [] if local.utcoffset() == timedelta(0) else [moment.astimezone(UTC).strftime("%H:%M UTC")]
    wall = moment.astimezone(own or zone)
    if own is not None and wall.utcoffset() not in (local.utcoffset(), timedelta(0)):
        extra.append(wall.strftime(f"%H:%M {wall.tzname()} by CRON_TZ"))
    return f"{first} ({', '.join(extra)})" if extra else first


def _would(result: StepResult) -> int:
    return sum(_dict(job.get("rerun")).get("state") == "would" for job in _dicts(result.data.get("missed")))


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _zone(name: object) -> tzinfo:
    try:
        return ZoneInfo(str(name)) if name else UTC
    except (ValueError, KeyError, OSError):
        return UTC


def _moment(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in _list(value) if isinstance(item, dict)]
