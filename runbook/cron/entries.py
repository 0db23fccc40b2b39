"""Crontab and anacrontab text into ``CronEntry`` records; bad lines become ``Problem``s.

Read as Vixie cron / cronie read them: blank lines and lines starting with ``#`` are
skipped; ``NAME=VALUE`` lines (spaces around ``=`` allowed, matching quotes stripped) set
the environment of the entries below them; ``CRON_TZ`` also sets the zone their
schedules are read in (``TZ`` is environment only). A user crontab has no user field (its
owner is known from the spool file's name); /etc/crontab and /etc/cron.d/* do. The first
unescaped ``%`` in a command ends it: the rest is the job's stdin, each further unescaped
``%`` a newline, ``\\%`` a literal ``%``. Parsing never raises.
"""

from __future__ import annotations

import enum
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from runbook.cron.fields import parse_schedule
from runbook.errors import ScheduleError

_ENV = re.compile(r"^([^\s=]+)\s*=\s*(.*)$")
_RUN_PARTS = re.compile(r"(?:^|[\s;&|(])run-parts((?:\s+-[^\s]+)*)\s+(/[^\s;&|)]+)")
_ANACRON_PERIODS = {"@daily": 1, "@weekly": 7, "@monthly": 30, "@yearly": 365, "@annually": 365}


class EntryKind(enum.StrEnum):
    """How an entry is started: cron's schedule, anacron's period, or once at boot."""

    CRON = "cron"
    ANACRON = "anacron"
    REBOOT = "reboot"


@dataclass(frozen=True)
class CronEntry:
    """One job line (or one script of a run-parts line) as cron would run it.

    ``command`` is what cron hands to ``$SHELL -c``; ``stdin`` the text it feeds the job
    (from ``%``), ``None`` when there is none. ``environment`` holds the variables set in
    the file above the entry. ``tz`` is the zone its schedule is read in. For anacron
    entries ``schedule`` is the period as written, ``period_days``/``delay_minutes`` parsed,
    and ``job_id`` anacron's job identifier. ``via`` names the run-parts directory a
    script was expanded from.
    """

    source: str
    line: int
    user: str
    schedule: str
    command: str
    kind: EntryKind
    tz: str
    environment: Mapping[str, str] = field(default_factory=dict)
    stdin: str | None = None
    job_id: str = ""
    period_days: int = 0
    delay_minutes: int = 0
    via: str = ""

    @property
    def id(self) -> str:
        """A stable identifier: ``anacron:JOB``, or ``FILE:LINE`` (``:SCRIPT`` when expanded)."""
        if self.kind is EntryKind.ANACRON:
            base = f"anacron:{self.job_id}"
            return f"{base}:{self.command}" if self.via else base
        base = f"{self.source}:{self.line}"
        return f"{base}:{self.command}" if self.via else base


@dataclass(frozen=True)
class Problem:
    """A line cron would ignore or reject: where, why, and the text."""

    source: str
    line: int
    reason: str
    text: str = ""

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class CronTable:
    """Entries and problems read from one or more files."""

    entries: tuple[CronEntry, ...] = ()
    problems: tuple[Problem, ...] = ()

    def __add__(self, other: CronTable) -> CronTable:
        return CronTable(self.entries + other.entries, self.problems + other.problems)


def parse_crontab(text: str, *, source: str, zone: str, user: str | None = None) -> CronTable:
    """Entries of a crontab: a user's (``user`` given, no user field) or a system one."""
    entries: list[CronEntry] = []
    problems: list[Problem] = []
    env: dict[str, str] = {}
    tz = zone
    for number, line in _lines(text):
        assignment = _assignment(line)
        if assignment is not None:
            name, value = assignment
            env[name] = value
            if name == "CRON_TZ":
                tz = _zone_or(value, zone, source, number, problems)
            continue
        try:
            entries.append(_cron_line(line, source, number, user, dict(env), tz))
        except ValueError as exc:
            problems.append(Problem(source, number, str(exc), line))
    return CronTable(tuple(entries), tuple(problems))


def parse_anacrontab(text: str, *, source: str, zone: str) -> CronTable:
    """Entries of /etc/anacrontab: ``period delay job-id command`` (jobs run as root)."""
    entries: list[CronEntry] = []
    problems: list[Problem] = []
    env: dict[str, str] = {}
    for number, line in _lines(text):
        assignment = _assignment(line)
        if assignment is not None:
            env[assignment[0]] = assignment[1]
            continue
        parts = line.split(None, 3)
        if len(parts) < 4:
            reason = "an anacron job needs period, delay, job-id and command"
            problems.append(Problem(source, number, reason, line))
            continue
        period_text, delay_text, job_id, command = parts
        period = _ANACRON_PERIODS.get(period_text.lower())
        if period is None and period_text.isdecimal() and period_text.isascii():
            period = int(period_text)
        reason = ""
        if not period:
            reason = f"period {period_text!r} is not a number of days or @daily/@weekly/@monthly"
        elif not (delay_text.isdecimal() and delay_text.isascii()):
            reason = f"delay {delay_text!r} is not a number of minutes"
        elif "/" in job_id or job_id.startswith("-"):
            reason = f"job-id {job_id!r} may not contain '/' or start with '-'"
        if reason or period is None:
            problems.append(Problem(source, number, reason, line))
            continue
        shell, stdin = split_percent(command)
        entries.append(
            CronEntry(
                source,
                number,
                "root",
                period_text,
                shell,
                EntryKind.ANACRON,
                zone,
                dict(env),
                stdin,
                job_id=job_id,
                period_days=period,
                delay_minutes=int(delay_text),
            )
        )
    return CronTable(tuple(entries), tuple(problems))


def split_percent(command: str) -> tuple[str, str | None]:
    """Cron's ``%`` rule: ``(shell command, stdin or None)``; stdin ends with a newline."""
    shell: list[str] = []
    chars = iter(command)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            shell.append("%" if following == "%" else char + following)
        elif char == "%":
            return "".join(shell), _stdin("".join(chars))
        else:
            shell.append(char)
    return "".join(shell), None


def run_parts_dir(command: str) -> str | None:
    """The directory a ``run-parts [options] DIR`` command runs, if it is one."""
    found = _RUN_PARTS.search(command)
    return found.group(2).rstrip("/") if found else None


def runs_as_part(name: str, *, debian: bool) -> bool:
    """Whether run-parts (and cron for /etc/cron.d) would run a file of this name.

    Debian's run-parts takes only ``[A-Za-z0-9_-]+``; cronie's skips dotfiles, editor and
    package-manager leftovers.
    """
    if debian:
        return re.fullmatch(r"[A-Za-z0-9_-]+", name) is not None
    leftovers = ("~", ",v", ".rpmsave", ".rpmorig", ".rpmnew", ".swp", ".cfsaved")
    return bool(name) and not name.startswith(".") and not name.endswith(leftovers)


def expand_run_parts(
    entries: Sequence[CronEntry], listings: Mapping[str, Sequence[str]]
) -> tuple[CronEntry, ...]:
    """Each run-parts entry whose directory listing is known becomes one entry per script.

    ``listings`` maps a directory to the scripts run-parts would run in it (already
    filtered, in run-parts' order). The script's command is its quoted path; ``via`` keeps
    the original command. Entries without a known listing are kept as they are.
    """
    expanded: list[CronEntry] = []
    for entry in entries:
        directory = run_parts_dir(entry.command)
        if directory is None or directory not in listings:
            expanded.append(entry)
            continue
        expanded.extend(
            replace(entry, command=shlex.quote(f"{directory}/{name}"), via=entry.command)
            for name in listings[directory]
        )
    return tuple(expanded)


def _cron_line(
    line: str, source: str, number: int, user: str | None, env: dict[str, str], tz: str
) -> CronEntry:
    wanted = 2 if line.startswith("@") else 6
    if user is None:
        wanted += 1
    parts = line.split(None, wanted - 1)
    if len(parts) < wanted or not parts[-1].strip():
        what = "schedule, user and command" if user is None else "schedule and command"
        raise ScheduleError(f"expected {what}")
    fields_count = 1 if line.startswith("@") else 5
    schedule = " ".join(parts[:fields_count])
    owner = parts[fields_count] if user is None else user
    kind = EntryKind.CRON
    if schedule.lower() == "@reboot":
        kind = EntryKind.REBOOT
    else:
        parse_schedule(schedule)
    shell, stdin = split_percent(parts[-1])
    return CronEntry(source, number, owner, schedule, shell, kind, tz, env, stdin)


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip(" \t\r")
        if line and not line.startswith("#"):
            yield number, line


def _assignment(line: str) -> tuple[str, str] | None:
    found = _ENV.match(line)
    if found is None:
        return None
    value = found.group(2).strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return found.group(1), value


def _zone_or(name: str, fallback: str, source: str, number: int, problems: list[Problem]) -> str:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        problems.append(Problem(source, number, f"CRON_TZ {name!r} is not a known zone; using {fallback}"))
        return fallback
    return name


def _stdin(rest: str) -> str:
    out: list[str] = []
    chars = iter(rest)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append("%" if following == "%" else char + following)
        else:
            out.append("\n" if char == "%" else char)
    text = "".join(out)
    return text if text.endswith("\n") else text + "\n"
