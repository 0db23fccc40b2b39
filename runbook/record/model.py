"""What a host's record says, worked out from its ``HostRun``: title, header, summary, steps, follow-ups.

The templates only lay this out; the JSON record carries the same values. Text here is
plain (not yet escaped for Markdown): templates apply the ``cell``, ``text``, ``code`` and
``fence`` filters.
"""

from __future__ import annotations

import functools
import importlib.metadata
import time
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from runbook.record import text
from runbook.record.before_after import still_broken
from runbook.record.missed import MissedJobsView, missed_summary, missed_view, window_row
from runbook.results import CommandRecord, HostRun, Outcome, StepResult
from runbook.settings import Settings

STEP_TITLES = {
    "check_date": "check date",
    "restart_daemon": "restart time daemon",
    "one_shot_sync": "one-shot sync",
    "start_enable_daemon": "start + enable daemon",
    "verify": "verify",
    "rerun_backup": "rerun missed backup",
    "missed_jobs": "missed cron jobs",
    "check_site": "check site",
}
_INIT_NAMES = {"sysv": "SysV init", "systemd": "systemd", "openrc": "OpenRC"}
NOTE_LIMIT = 160
FORMAT = "runbook-record/1"
UTC = ZoneInfo("UTC")


def step_title(name: str) -> str:
    """The human title of a step: ``restart_daemon`` -> ``restart time daemon``."""
    return STEP_TITLES.get(name) or name.replace("_", " ").replace("-", " ").strip() or "step"


@functools.cache
def runbook_version() -> str:
    """The installed runbook's version (looked up once: reading package metadata is slow)."""
    try:
        return importlib.metadata.version("runbook")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class StepView:
    """One step as shown in the table and its Details section."""

    number: int
    name: str
    title: str
    outcome: str
    took: str
    note: str
    message: str
    dry_run: bool
    warnings: list[str]
    data: list[tuple[str, str]]
    commands: list[str]
    console: str


@dataclass
class HostRecord:
    """Everything a host's Markdown record shows, as plain text."""

    host: str
    outcome: str
    label: str
    title: str
    header: list[tuple[str, str]]
    summary: list[tuple[str, str]]
    steps: list[StepView]
    followups: list[str]
    error: str | None
    interrupted: bool
    dry_run: bool
    clock: dict[str, Any] = field(default_factory=dict)
    missed: MissedJobsView | None = None
    json_name: str | None = None
    journal_name: str | None = None
    rendered: str = ""


def is_dry(run: HostRun, settings: Settings) -> bool:
    return settings.dry_run or any(r.dry_run for r in run.results)


def outcome_word(result: StepResult) -> str:
    if result.dry_run and result.outcome is Outcome.CHANGED:
        return "would change"
    return result.outcome.value


def label(run: HostRun, dry: bool) -> str:
    """The title's verdict: ``FIXED (3 changes)``, ``OK (nothing to do)``, ``FAILED (…)`` …"""
    changes = sum(r.changed for r in run.results)
    failed = [step_title(r.step) for r in run.results if r.failed]
    prefix = "DRY RUN, " if dry else ""
    made = [f"would change {changes}" if dry else f"{_count(changes, 'change')} made"] if changes else []
    if run.interrupted:
        after = f"after {_count(len(run.results), 'step')}"
        return f"{prefix}INTERRUPTED ({'; '.join([after, *made])})"
    if run.error or failed:
        why = [f"host error: {_clip(text.one_line(run.error), 60)}"] if run.error else []
        if failed:
            why.append(f"{', '.join(failed)} failed")
        return f"{prefix}FAILED ({'; '.join([*why, *made])})"
    if dry:
        return f"DRY RUN (would change {changes})" if changes else "DRY RUN (nothing to change)"
    if changes:
        return f"FIXED ({_count(changes, 'change')})"
    if run.results and all(r.outcome is Outcome.SKIPPED for r in run.results):
        return "SKIPPED (every step skipped)"
    return "OK (nothing to do)"


def _clip(line: str, limit: int) -> str:
    """``line`` cut at a word boundary before ``limit`` characters, marked with an ellipsis."""
    if len(line) <= limit:
        return line
    head = line[:limit].rsplit(" ", 1)[0] if " " in line[:limit] else line[:limit]
    return f"{head} …"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def clock_reading(result: StepResult | None) -> dict[str, float] | None:
    """``{"offset", "bound"}`` from a step's data, when it measured the clock."""
    if result is None:
        return None
    value = text.number(result.data.get("offset"))
    if value is None:
        return None
    reading = {"offset": value}
    error = text.number(result.data.get("bound"))
    if error is not None:
        reading["bound"] = error
    return reading


def clock_words(reading: dict[str, float] | None) -> str:
    if reading is None:
        return "not measured"
    return text.offset(reading["offset"], reading.get("bound"))


def clock_after(run: HostRun) -> dict[str, float] | None:
    """The clock after the run: the verify step's reading, unless it only looked (dry run, skipped)."""
    result = run.result("verify")
    if result is None or result.dry_run or result.outcome is Outcome.SKIPPED:
        return None
    return clock_reading(result)


def after_words(reading: dict[str, float] | None, dry: bool) -> str:
    return "unchanged (dry run)" if reading is None and dry else clock_words(reading)


def header(run: HostRun, settings: Settings, dry: bool) -> list[tuple[str, str]]:
    """The header table's rows, label then value."""
    rows = [("Host", host_line(run))]
    if settings.window is not None:
        rows.append(("Maintenance window", window_line(settings)))
    elif window_row(run):
        rows.append(("Maintenance window", window_row(run)))
    rows.append(("Run", run_line(run.started, run.finished, settings)))
    reference = reference_line(run.result("check_date"))
    if reference:
        rows.append(("Reference time", reference))
    before = clock_reading(run.result("check_date"))
    after = clock_after(run)
    if before or after:
        rows.append(("Clock before → after", f"{clock_words(before)} → {after_words(after, dry)}"))
    counts = run.counts()
    tally = " · ".join(f"{counts[o.value]} {o.value}" for o in Outcome)
    rows.append(("Outcome", f"{tally}{' (dry run: nothing was changed)' if dry else ''}"))
    return rows


def host_line(run: HostRun) -> str:
    facts = run.facts
    name = str(facts.get("hostname") or run.host)
    line = f"{name} ({facts['address']})" if facts.get("address") else name
    if name != run.host:
        line += f" [{run.host}]"
    extras = [
        str(facts[key]) for key in ("os", "init", "daemon") if facts.get(key) not in (None, "", "unknown")
    ]
    extras = [_INIT_NAMES.get(item.lower(), item) for item in extras]
    return ", ".join([line, *extras])


def window_line(settings: Settings) -> str:
    """The maintenance window in the chosen zone and UTC (empty without a window)."""
    window = settings.window
    if window is None:
        return ""
    local = text.span(window.start.astimezone(settings.zone), window.end.astimezone(settings.zone), False)
    utc = text.span(window.start.astimezone(UTC), window.end.astimezone(UTC), False)
    source = "" if window.source == "given" else f"; {window.source}"
    return local if settings.timezone == "UTC" else f"{local} ({utc}{source})"


def run_line(started: float, finished: float, settings: Settings) -> str:
    """When (chosen zone and UTC), by whom, with which runbook; ``finished`` 0 = did not finish."""
    end = finished or None
    utc = text.span(text.moment(started, UTC), text.moment(end, UTC) if end else None)
    if settings.timezone == "UTC":
        when = utc
    else:
        zone = settings.zone
        local = text.span(text.moment(started, zone), text.moment(end, zone) if end else None)
        when = f"{local} ({utc})"
    who = f" by {settings.operator}" if settings.operator else ""
    unfinished = "; did not finish" if end is None else ""
    return f"{when}{who}, runbook {runbook_version()}{unfinished}"


def reference_line(result: StepResult | None) -> str:
    if result is None or not result.data.get("server"):
        return ""
    parts = [str(result.data["server"])]
    if result.data.get("stratum") is not None:
        parts[0] += f", stratum {result.data['stratum']}"
    controller = text.number(result.data.get("controller_offset"))
    if controller is not None:
        parts.append(f"controller clock {text.offset(controller)}")
    return "; ".join(parts)


def summary(run: HostRun, settings: Settings, dry: bool) -> list[tuple[str, str]]:
    """Four answers: did it work, what was wrong, what was done, what is left."""
    failed = [r for r in run.results if r.failed]
    changed = [r for r in run.results if r.changed]
    before = clock_reading(run.result("check_date"))
    after = clock_after(run)
    answers = [
        ("Result", _verdict(run, failed, changed, dry)),
        ("Found", _found(before, settings)),
        ("Done", _done(run, changed, after, dry)),
        ("Left", _left(run, failed)),
    ]
    missed = missed_summary(run)
    return [*answers, ("Missed jobs", missed)] if missed else answers


def _verdict(run: HostRun, failed: list[StepResult], changed: list[StepResult], dry: bool) -> str:
    steps = _count(len(run.results), "step")
    if run.interrupted:
        return f"Interrupted after {steps}: the run did not finish; what ran is recorded below."
    if run.error:
        return f"Failed: the host could not be worked on ({text.one_line(run.error)}) after {steps}."
    if failed:
        names = ", ".join(step_title(r.step) for r in failed)
        return f"Failed: {names} failed ({_count(len(failed), 'step')} of {len(run.results)})."
    if dry:
        if changed:
            return f"Dry run: {_count(len(changed), 'step')} would change the host; nothing was changed."
        return "Dry run: nothing would change."
    if changed:
        return f"Fixed: {_count(len(changed), 'step')} changed the host and every step passed."
    return f"Nothing to do: all {steps} found the host as it should be."


def _found(before: dict[str, float] | None, settings: Settings) -> str:
    if before is None:
        return "The clock was not measured."
    words = clock_words(before)
    if abs(before["offset"]) > settings.max_offset:
        return f"The clock was {words}, beyond the {settings.max_offset:g} s limit."
    return f"The clock was {words}, within the {settings.max_offset:g} s limit."


def _done(run: HostRun, changed: list[StepResult], after: dict[str, float] | None, dry: bool) -> str:
    if not changed:
        done = "Nothing would be changed." if dry else "Nothing was changed."
    else:
        done = "; ".join(f"{step_title(r.step)}: {r.message}" for r in changed) + "."
    if after is not None and not dry:
        done += f" The clock is now {clock_words(after)}."
    return done


def _left(run: HostRun, failed: list[StepResult]) -> str:
    followups = len(followups_of(run))
    broken = still_broken(run)
    if run.interrupted or run.error or failed:
        return (
            f"Not finished: {broken}see the {_count(followups, 'follow-up')} below and run post-maint again."
        )
    if followups:
        return f"{_count(followups, 'follow-up')} below."
    return "Nothing."


def followups_of(run: HostRun) -> list[str]:
    """What a person should still look at: the host error, failed steps, every warning."""
    items: list[str] = []
    if run.interrupted:
        items.append(
            f"The run was interrupted after {_count(len(run.results), 'step')}; later steps did not run."
        )
    if run.error:
        items.append(f"Host error: {run.error}")
    for result in run.results:
        if result.failed:
            items.append(f"{step_title(result.step)} failed: {result.message}")
        items.extend(f"{step_title(result.step)}: {warning}" for warning in result.warnings)
    return items


COMMAND_HEAD = 12
COMMAND_TAIL = 8
"""Lines of a long command shown before and after the omission marker in Markdown."""


def console(command: CommandRecord) -> str:
    """``$ command``, its output, and ``(exit N, 0.3 s)`` or ``(did not finish: why)``.

    A long script (the probe) shows its first and last lines, as long output does.
    """
    script = text.clip(command.command, COMMAND_HEAD, COMMAND_TAIL, what="lines of the command")
    first, *rest = script.split("\n")
    lines = [f"$ {first}", *(f"> {line}" for line in rest)]
    for stream in (command.stdout, command.stderr):
        if stream:
            lines.append(text.clip(stream.removesuffix("\n")))
    took = text.seconds(command.duration)
    note = text.one_line(command.note)
    if command.exit_code is None:
        lines.append(f"(did not finish: {note or 'no exit status'}, {took})")
    else:
        lines.append(f"(exit {command.exit_code}, {took}{'; ' + note if note else ''})")
    return "\n".join(lines)


def step_view(number: int, result: StepResult) -> StepView:
    commands = [console(c) for c in result.commands]
    note = text.one_line(result.message)
    return StepView(
        number=number,
        name=result.step,
        title=step_title(result.step),
        outcome=outcome_word(result),
        took=text.seconds(result.duration),
        note=note if len(note) <= NOTE_LIMIT else note[: NOTE_LIMIT - 1] + "…",
        message=result.message,
        dry_run=result.dry_run,
        warnings=list(result.warnings),
        data=[(str(key), text.compact(value)) for key, value in result.data.items()],
        commands=commands,
        console="\n".join(commands),
    )


def host_record(
    run: HostRun,
    settings: Settings,
    *,
    now: float,
    json_name: str | None = None,
    journal_name: str | None = None,
) -> HostRecord:
    """The record of ``run``, ready for a template or the JSON record."""
    dry = is_dry(run, settings)
    verdict = label(run, dry)
    return HostRecord(
        host=run.host,
        outcome=run.outcome.value,
        label=verdict,
        title=f"Maintenance record — {text.one_line(run.host)} — {verdict}",
        header=header(run, settings, dry),
        summary=summary(run, settings, dry),
        steps=[step_view(n, r) for n, r in enumerate(run.results, 1)],
        followups=followups_of(run),
        error=run.error,
        interrupted=run.interrupted,
        dry_run=dry,
        clock={
            "before": clock_reading(run.result("check_date")),
            "after": clock_after(run),
        },
        missed=missed_view(run),
        json_name=json_name,
        journal_name=journal_name,
        rendered=text.moment(now, UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    )


def host_json(
    run: HostRun,
    settings: Settings,
    *,
    now: float | None = None,
    journal_name: str | None = None,
    record: HostRecord | None = None,
) -> dict[str, Any]:
    """The JSON record: ``run.to_dict()`` (complete, unclipped output) plus the header and summary.

    ``record``: ``run``'s ``host_record`` if the caller already has it (the Markdown needs it too).
    """
    if record is None:
        record = host_record(
            run, settings, now=time.time() if now is None else now, journal_name=journal_name
        )
    check = run.result("check_date")
    return {
        "format": FORMAT,
        "title": record.title,
        "label": record.label,
        "dry_run": record.dry_run,
        "header": {
            "host": run.host,
            "hostname": run.facts.get("hostname"),
            "address": run.facts.get("address"),
            "os": run.facts.get("os"),
            "init": run.facts.get("init"),
            "daemon": run.facts.get("daemon"),
            "timezone": settings.timezone,
            "window": window_json(settings),
            "operator": settings.operator,
            "runbook_version": runbook_version(),
            "reference": {key: check.data.get(key) for key in ("server", "stratum", "controller_offset")}
            if check is not None
            else None,
            "clock": record.clock,
            "rows": dict(record.header),
        },
        "summary": dict(record.summary),
        "followups": record.followups,
        "journal": journal_name,
        "rendered": record.rendered,
        **run.to_dict(),
    }


def window_json(settings: Settings) -> dict[str, str] | None:
    window = settings.window
    if window is None:
        return None
    return {"start": window.start.isoformat(), "end": window.end.isoformat(), "source": window.source}
