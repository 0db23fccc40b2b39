"""The record's missed cron jobs, from ``MissedJobs`` step data: one status per job, said the same everywhere.

A job's status is decided once (``status``) and every part of the record (the table, the
summary, what is left) counts from it: a job the backup step reran is "rerun by the backup
step" whether or not ``--rerun`` selected it. The data may come from a journal or an older
run, so values are read defensively: a malformed field gives a blank, never an error.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from runbook.record.language import Language
from runbook.stepdata import MissedJobs

RUNS_SHOWN = 3
DONE = ("ran", "by_backup", "by_cron")


@dataclass
class MissedJobRow:
    """One cron job that was due in the window, as a table row."""

    job: str
    schedule: str
    user: str
    command: str
    runs: str
    status: str
    state: str


@dataclass
class MissedJobsView:
    """The window, a row per due job, and the jobs still to rerun."""

    window: str
    source: str
    how: str
    given: bool
    start: datetime
    end: datetime
    rows: list[MissedJobRow] = field(default_factory=list)
    anacron: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def rerun(self) -> list[MissedJobRow]:
        return [row for row in self.rows if row.state in DONE]

    @property
    def left(self) -> list[MissedJobRow]:
        """Jobs not rerun (a failed rerun is left as its step's failure, not twice)."""
        return [row for row in self.rows if row.state == "left"]


def missed_view(
    data: MissedJobs, lang: Language, zone: tzinfo, fresh_backup: str | None = None
) -> MissedJobsView | None:
    """The section's content, or ``None`` when the step found no window.

    ``fresh_backup``: the backup command when this run's backup step found the backup fresh;
    its cron job, missed in the window but made up for since, is not left to rerun.
    """
    window = _dict(data.window)
    start, end = _moment(window.get("start")), _moment(window.get("end"))
    if start is None or end is None:
        return None
    source = str(window.get("source", ""))
    view = MissedJobsView(
        window=lang.span(start, end, zone),
        source=source_words(source, lang),
        how=source_words(source, lang, named=False),
        given=source == "given",
        start=start,
        end=end,
    )
    host_zone = _zone(data.zone)
    for job in _dicts(data.missed):
        view.rows.append(_row(job, lang, zone, host_zone, fresh_backup))
    for job in _dicts(data.anacron):
        if job.get("due") is True:
            view.anacron.append(str(job.get("command", "")))
    view.problems = [str(problem) for problem in data.problems or [] if problem]
    return view


def source_words(source: str, lang: Language, *, named: bool = True) -> str:
    """Where the window came from, in the record's language (``named``: an inferred one is a clock gap)."""
    if source == "given":
        return lang._("given by the operator")
    if "clock" in source and source.startswith("inferred from the "):
        lag = source.removeprefix("inferred from the ").removesuffix(" clock lag").removesuffix(" clock lead")
        if named:
            return lang._("clock gap, inferred from the %(lag)s clock lag", lag=lag)
        return lang._("inferred from the %(lag)s clock lag", lag=lag)
    if "shutdown" in source:
        if named:
            return lang._("clock gap, inferred from the last shutdown and the boot")
        return lang._("inferred from the last shutdown and the boot")
    if named:
        return lang._("clock gap, inferred from the boot time")
    return lang._("inferred from the boot time")


def rerun_command(host: str, view: MissedJobsView, rows: list[MissedJobRow]) -> str:
    """The command line that reruns ``rows`` on ``host`` in this window (the window in UTC)."""
    fmt = "%Y-%m-%d %H:%M:%S"
    window = f"{view.start.astimezone(UTC):{fmt}}..{view.end.astimezone(UTC):{fmt}} UTC"
    parts = ["runbook", "post-maint", "--host", host, "--window", window]
    for command in dict.fromkeys(row.command for row in rows):
        parts += ["--rerun", command]
    return shlex.join(parts)


def status(job: dict[str, Any], lang: Language, fresh_backup: str | None = None) -> tuple[str, str]:
    """``(state, words)``: ran, by_backup, by_cron, would, failed, fresh or left."""
    rerun = _dict(job.get("rerun"))
    state = rerun.get("state")
    if state == "by_backup":
        return "by_backup", lang._("rerun by the backup step")
    if state == "by_cron":
        return "by_cron", lang._("left to the host's cron, which runs what the clock step skipped")
    if state == "would":
        return "would", lang._("would rerun (dry run)")
    if state == "ran":
        took = rerun.get("duration")
        seconds = lang.seconds(float(took)) if isinstance(took, int | float) else "?"
        if rerun.get("exit_code") == 0:
            return "ran", lang._("rerun: exit 0 in %(took)s", took=seconds)
        return "failed", lang._("rerun failed: exit %(code)s", code=rerun.get("exit_code"))
    if fresh_backup is not None and str(job.get("command", "")).strip() == fresh_backup.strip():
        return "fresh", lang._("not needed: the backup step found the backup fresh")
    return "left", lang._("not rerun")


def _row(
    job: dict[str, Any], lang: Language, zone: tzinfo, host_zone: tzinfo, fresh_backup: str | None
) -> MissedJobRow:
    schedule = str(job.get("schedule", ""))
    tz = job.get("tz")
    own = _zone(tz) if isinstance(tz, str) and tz and _zone(tz) != host_zone else None
    if own is not None:
        schedule += f" (CRON_TZ={tz})"
    times = (_moment(_dict(item).get("at")) for item in _list(job.get("runs")))
    runs = [moment for moment in times if moment is not None]
    shown = [_run_time(moment, lang, zone, own) for moment in runs[:RUNS_SHOWN]]
    if len(runs) > RUNS_SHOWN or job.get("truncated") is True:
        shown.append(lang._("and more"))
    state, words = status(job, lang, fresh_backup)
    return MissedJobRow(
        job=str(job.get("id", "")),
        schedule=schedule,
        user=str(job.get("user", "")),
        command=str(job.get("command", "")),
        runs="; ".join(shown),
        status=words,
        state=state,
    )


def _run_time(moment: datetime, lang: Language, zone: tzinfo, own: tzinfo | None) -> str:
    """The run in the operator's zone and UTC; a CRON_TZ job adds its own wall time when that differs."""
    said = lang.moment(moment, zone)
    wall = moment.astimezone(own) if own is not None else None
    if wall is not None and wall.utcoffset() not in (moment.astimezone(zone).utcoffset(), timedelta(0)):
        said += f" [{wall:%H:%M} {wall.tzname()}, CRON_TZ]"
    return said


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
