"""What a fleet's record says: one line per host, linking to each host's own record."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from runbook.record import model, text
from runbook.results import FleetRun, HostRun
from runbook.settings import Settings


@dataclass
class HostLine:
    """One host in the fleet table."""

    host: str
    outcome: str
    label: str
    before: str
    after: str
    changed: list[str]
    failed: list[str]
    record: str | None
    connections: int = 0
    commands: int = 0
    round_trips: int = 0


@dataclass
class FleetRecord:
    """Everything a fleet's Markdown record shows, as plain text."""

    title: str
    label: str
    header: list[tuple[str, str]]
    hosts: list[HostLine]
    failures: list[tuple[str, str]]
    rendered: str


def host_line(run: HostRun, settings: Settings, record: str | None) -> HostLine:
    dry = model.is_dry(run, settings)
    failed = [f"{model.step_title(r.step)}: {r.message}" for r in run.results if r.failed]
    if run.error:
        failed.insert(0, f"host error: {run.error}")
    if run.interrupted:
        failed.insert(0, "interrupted")
    return HostLine(
        host=run.host,
        outcome=run.outcome.value,
        label=model.label(run, dry),
        before=model.clock_words(model.clock_reading(run.result("check_date"))),
        after=model.after_words(model.clock_after(run), dry),
        changed=[model.step_title(r.step) for r in run.results if r.changed],
        failed=failed,
        record=record,
        connections=run.connections,
        commands=len(run.commands),
        round_trips=run.round_trips,
    )


def fleet_label(lines: list[HostLine], dry: bool) -> str:
    total = len(lines)
    interrupted = sum("interrupted" in line.failed for line in lines)
    failed = sum(line.outcome == "failed" for line in lines)
    changed = sum(bool(line.changed) for line in lines)
    if interrupted:
        return f"INTERRUPTED ({interrupted} of {total} hosts)"
    if failed:
        return f"FAILED ({failed} of {total} hosts)"
    if dry:
        return f"DRY RUN ({changed} of {total} hosts would change)"
    if changed:
        return f"FIXED ({changed} of {total} hosts changed)"
    return f"OK (nothing to do on {total} hosts)"


def fleet_record(
    fleet: FleetRun, settings: Settings, host_record_names: dict[str, str], *, now: float
) -> FleetRecord:
    """The fleet's record: a verdict, when and by whom, and a line per host."""
    lines = [host_line(run, settings, host_record_names.get(run.host)) for run in fleet.runs]
    dry = any(model.is_dry(run, settings) for run in fleet.runs)
    verdict = fleet_label(lines, dry)
    tally: dict[str, int] = {}
    for line in lines:
        tally[line.outcome] = tally.get(line.outcome, 0) + 1
    header = [("Hosts", ", ".join(line.host for line in lines) or "none")]
    if settings.window is not None:
        header.append(("Maintenance window", model.window_line(settings)))
    header.append(("Run", model.run_line(fleet.started, fleet.finished, settings)))
    header.append(("Outcome", " · ".join(f"{n} {outcome}" for outcome, n in tally.items()) or "no hosts"))
    if fleet.stopped:
        header.append(("Stopped", f"no new host started: {fleet.stopped}"))
    return FleetRecord(
        title=f"Maintenance record — {len(lines)} hosts — {verdict}",
        label=verdict,
        header=header,
        hosts=lines,
        failures=[(line.host, "; ".join(line.failed)) for line in lines if line.failed],
        rendered=text.moment(now, model.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    )


def fleet_json(
    fleet: FleetRun, settings: Settings, host_record_names: dict[str, str], *, now: float | None = None
) -> dict[str, Any]:
    """The fleet's JSON record: header and a line per host (each host's JSON record has the rest)."""
    record = fleet_record(fleet, settings, host_record_names, now=time.time() if now is None else now)
    return {
        "format": model.FORMAT,
        "title": record.title,
        "label": record.label,
        "started": fleet.started,
        "finished": fleet.finished,
        "timezone": settings.timezone,
        "window": model.window_json(settings),
        "operator": settings.operator,
        "runbook_version": model.runbook_version(),
        "rows": dict(record.header),
        "stopped": fleet.stopped,
        "totals": {
            "hosts": len(record.hosts),
            "connections": sum(line.connections for line in record.hosts),
            "commands": sum(line.commands for line in record.hosts),
            "round_trips": sum(line.round_trips for line in record.hosts),
        },
        "hosts": [vars(line) for line in record.hosts],
        "rendered": record.rendered,
    }
