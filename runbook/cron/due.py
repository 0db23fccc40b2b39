"""Which cron entries were due inside a window, and how the host's wrong clock saw them.

Times. The window is in true time (aware datetimes). Each entry's schedule is read in
its own zone (``CRON_TZ`` or the host's zone): a run is due at a wall-clock time in that
zone, and ``due_runs`` returns those instants inside ``[start, end)`` as aware datetimes in
that zone. Across DST changes it follows Vixie cron: when the clock springs forward, a
fixed-time job (minute and hour not ``*``) whose time was skipped runs at the first
minute after the change, a wildcard job simply has no run in the skipped hour; when the
clock falls back, a wildcard job runs in both copies of the repeated hour and a fixed-time
job only in the first.

The host's clock. ``offset`` is true time minus the host's clock, in seconds: positive
when the host is BEHIND. The host's cron fires a run scheduled at wall time R when its
own clock reads R, that is at true time ``R + offset``. ``host_reached(run, now, offset)``
says whether the host's clock has already passed R (cron believes it reached that run,
and ran it late if it was running then); runs it has not reached, cron would fire later,
when its clock gets there, unless the clock is stepped past them (Vixie cron runs skipped
fixed-time jobs after a forward step of less than 3 hours, and none after a longer one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import CroniterError, croniter  # type: ignore[import-untyped]

from runbook.cron.entries import CronEntry, EntryKind
from runbook.cron.fields import parse_schedule
from runbook.errors import ScheduleError
from runbook.settings import Window

MAX_RUNS = 10_000
"""At most this many runs are listed per entry (``DueJob.truncated`` says when cut)."""

_LEAD = timedelta(hours=3)


@dataclass(frozen=True)
class DueJob:
    """A cron entry and its runs due inside the window, in the entry's zone."""

    entry: CronEntry
    runs: tuple[datetime, ...]
    truncated: bool = False


@dataclass(frozen=True)
class AnacronJob:
    """An anacron entry: whether its period had elapsed by the window's end, and why."""

    entry: CronEntry
    due: bool
    last_run: date | None
    reason: str


@dataclass(frozen=True)
class MissedReport:
    """What was due in a window: cron jobs with runs, @reboot entries, anacron jobs."""

    window: Window
    due: tuple[DueJob, ...]
    reboot: tuple[CronEntry, ...]
    anacron: tuple[AnacronJob, ...]


def due_runs(
    entry: CronEntry, start: datetime, end: datetime, *, limit: int = MAX_RUNS
) -> tuple[datetime, ...]:
    """The entry's scheduled runs in ``[start, end)`` (aware), in the entry's zone.

    Empty for @reboot and anacron entries, for a schedule cron would reject, and for one
    that never matches (``0 0 30 2 *``).
    """
    if entry.kind is not EntryKind.CRON:
        return ()
    try:
        schedule = parse_schedule(entry.schedule)
        zone = ZoneInfo(entry.tz)
    except (ScheduleError, ValueError, KeyError, OSError):
        return ()
    first, stop = start.timestamp(), end.timestamp()  # aware datetimes in one zone compare by wall time
    runs: list[datetime] = []
    seen_walls: set[datetime] = set()
    try:
        # Start early enough to see the first copy of an hour repeated by a DST change.
        times = croniter(schedule.expression, start.astimezone(zone) - _LEAD, day_or=schedule.day_or)
        while len(runs) < limit:
            run = times.get_next(datetime)
            if run.timestamp() >= stop:
                break
            wall = run.replace(tzinfo=None, fold=0)
            if schedule.fixed and wall in seen_walls:
                continue
            seen_walls.add(wall)
            if run.timestamp() >= first:
                runs.append(run)
    except (CroniterError, ValueError, OverflowError):
        return tuple(runs)
    return tuple(runs)


def find_missed(
    entries: Iterable[CronEntry],
    window: Window,
    *,
    anacron_stamps: Mapping[str, date] | None = None,
) -> MissedReport:
    """Sort ``entries`` for ``window``: cron jobs with runs inside it, @reboot, anacron.

    @reboot entries are never missed by a window: they ran at boot (or should have), so
    they are listed apart. Anacron jobs are due when their period had elapsed by the
    window's end (``anacron_stamps``: job-id -> last run day, from /var/spool/anacron);
    anacron itself runs due jobs when it next starts (at boot, or from cron).
    """
    due: list[DueJob] = []
    reboot: list[CronEntry] = []
    anacron: list[AnacronJob] = []
    stamps = anacron_stamps or {}
    for entry in entries:
        if entry.kind is EntryKind.REBOOT:
            reboot.append(entry)
        elif entry.kind is EntryKind.ANACRON:
            anacron.append(anacron_due(entry, stamps.get(entry.job_id), window.end))
        else:
            runs = due_runs(entry, window.start, window.end, limit=MAX_RUNS + 1)
            if runs:
                due.append(DueJob(entry, runs[:MAX_RUNS], truncated=len(runs) > MAX_RUNS))
    return MissedReport(window, tuple(due), tuple(reboot), tuple(anacron))


def anacron_due(entry: CronEntry, last_run: date | None, at: datetime) -> AnacronJob:
    """Whether anacron would find ``entry`` due at ``at`` (its period elapsed since ``last_run``)."""
    try:
        today = at.astimezone(ZoneInfo(entry.tz)).date()
    except (ValueError, KeyError, OSError):
        today = at.date()
    if last_run is None:
        return AnacronJob(entry, True, None, "no timestamp: anacron runs it at its next start")
    elapsed = (today - last_run).days
    if elapsed >= entry.period_days:
        reason = f"last ran {last_run}, {entry.period_days} d period elapsed: anacron will run it"
        return AnacronJob(entry, True, last_run, reason)
    return AnacronJob(entry, False, last_run, f"last ran {last_run}, within its {entry.period_days} d period")


def host_clock(true_time: datetime, offset: float) -> datetime:
    """What the host's clock read at ``true_time`` (``offset`` > 0: host behind)."""
    return true_time - timedelta(seconds=offset)


def true_time(host_time: datetime, offset: float) -> datetime:
    """The true time at which the host's clock read ``host_time``."""
    return host_time + timedelta(seconds=offset)


def host_window(window: Window, offset: float) -> Window:
    """The window as the host's clock read it, if the offset held throughout."""
    return Window(host_clock(window.start, offset), host_clock(window.end, offset), window.source)


def host_reached(run: datetime, now: datetime, offset: float) -> bool:
    """Whether the host's clock, now reading ``now - offset``, has passed the run's time."""
    return host_clock(now, offset).timestamp() > run.timestamp()
