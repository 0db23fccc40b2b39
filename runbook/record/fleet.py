"""What a fleet's record says: one line per host (verdict, changes, what is left), linking to its record."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runbook.record import model
from runbook.record.language import Language
from runbook.results import FleetRun, HostRun
from runbook.settings import Settings


@dataclass
class HostLine:
    """One host in the fleet table."""

    host: str
    outcome: str
    label: str
    changes: list[str]
    left: list[str]
    record: str | None
    connections: int = 0
    commands: int = 0
    round_trips: int = 0


@dataclass
class FleetRecord:
    """Everything a fleet's Markdown record shows, as plain text in the record's language."""

    title: str
    label: str
    header: list[tuple[str, str]]
    hosts: list[HostLine]
    rendered: str


def host_line(
    run: HostRun, settings: Settings, record: str | None, now: float, host: model.HostRecord | None = None
) -> HostLine:
    """The host's verdict, what changed and what is left, as its own record (``host``, made
    when not given) says them. All of it comes from the run as that record saw it: after a
    Ctrl-C the host's current step may still end, and add a result, while the records are written."""
    host = host or model.host_record(run, settings, now=now)
    seen = host.run or run
    return HostLine(
        host=seen.host,
        outcome=seen.outcome.value,
        label=host.label,
        changes=[step.title for step, result in zip(host.steps, seen.results, strict=True) if result.changed],
        left=[f"{item.text} {item.command}".strip() for item in host.left],
        record=record,
        connections=seen.connections,
        commands=len(seen.commands),
        round_trips=seen.round_trips,
    )


def fleet_label(lines: list[HostLine], dry: bool, interrupted: int, lang: Language) -> str:
    total = len(lines)
    failed = sum(line.outcome == "failed" for line in lines)
    changed = sum(line.outcome == "changed" for line in lines)
    left = sum(bool(line.left) for line in lines)
    if interrupted:
        return lang._("INTERRUPTED (%(n)d of %(total)d hosts)", n=interrupted, total=total)
    if failed:
        return lang._("FAILED (%(n)d of %(total)d hosts)", n=failed, total=total)
    if dry:
        return lang._("DRY RUN (%(n)d of %(total)d hosts would change)", n=changed, total=total)
    if left:
        return lang._("%(n)d of %(total)d hosts with something left", n=left, total=total)
    if changed:
        return lang._("FIXED (%(n)d of %(total)d hosts changed)", n=changed, total=total)
    return lang._("OK (nothing to do on %(total)d hosts)", total=total)


def fleet_record(
    fleet: FleetRun,
    settings: Settings,
    host_record_names: dict[str, str],
    *,
    now: float,
    host_records: Mapping[str, model.HostRecord] | None = None,
) -> FleetRecord:
    """The fleet's record: a verdict, when and by whom, and a line per host (from the hosts'
    records in ``host_records`` where given, so none is made twice)."""
    lang = Language(settings.records.lang)
    made = host_records or {}
    lines = [
        host_line(run, settings, host_record_names.get(run.host), now, made.get(run.host))
        for run in fleet.runs
    ]
    dry = any(model.is_dry(run, settings) for run in fleet.runs)
    verdict = fleet_label(lines, dry, sum(run.interrupted for run in fleet.runs), lang)
    header = [(lang._("Hosts"), ", ".join(line.host for line in lines) or "—")]
    if settings.window is not None:
        window = settings.window
        header.append(
            (lang._("Maintenance window"), lang.span(window.start, window.end, settings.records.zone))
        )
    header.append((lang._("Run"), model.run_line(fleet.started, fleet.finished, settings, lang)))
    if fleet.stopped:
        header.append((lang._("Stopped"), lang._("no new host started: %(why)s", why=fleet.stopped)))
    return FleetRecord(
        title=lang._("Maintenance record — %(n)d hosts — %(verdict)s", n=len(lines), verdict=verdict),
        label=verdict,
        header=header,
        hosts=lines,
        rendered=lang.moment(datetime.fromtimestamp(now, UTC), settings.records.zone, seconds=True),
    )


def fleet_json(
    fleet: FleetRun,
    settings: Settings,
    host_record_names: dict[str, str],
    *,
    now: float | None = None,
    record: FleetRecord | None = None,
) -> dict[str, Any]:
    """The fleet's JSON record: header and a line per host (each host's JSON record has the rest)."""
    when = time.time() if now is None else now
    record = record or fleet_record(fleet, settings, host_record_names, now=when)
    return {
        "format": model.FORMAT,
        "title": record.title,
        "label": record.label,
        "lang": settings.records.lang,
        "started": fleet.started,
        "finished": fleet.finished,
        "timezone": settings.records.timezone,
        "window": model.window_json(settings),
        "operator": settings.records.operator,
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
