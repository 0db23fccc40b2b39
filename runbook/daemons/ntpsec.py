"""NTPsec: ``ntpdig`` and the ``ntpdate`` wrapper around it (it never binds UDP 123)."""

from __future__ import annotations

import re

from runbook.daemons import SyncKind, SyncRun, lines_of

_REPORT = re.compile(
    r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? \([-+]\d{4}\) ([-+]\d+(?:\.\d+)?) \+/- \d+(?:\.\d+)? "
    r"(\S+) (\S+) s(\d+)"
)
_STEPPED = re.compile(r"CLOCK: time stepped by ([-+]?\d+(?:\.\d+)?)")
_SLEWED = re.compile(r"CLOCK: time slew(?:ed)? (?:by )?([-+]?\d+(?:\.\d+)?)")


def parse_ntpdig(text: str, rc: int | None) -> SyncRun:
    """ntpdig (or ntpsec ``ntpdate``) output and exit code, read.

    Report line ``2015-10-14 13:46:04.534916 (+0500) -0.000007 +/- 0.084075 host IP s2 no-leap``
    (offset negative when the host is ahead) and ``CLOCK: time stepped by N``; exit 0 with
    a report is ``synced``; ``no eligible servers`` is ``no-server``.
    """
    lines = lines_of(text)
    report = next((m for m in (_REPORT.match(line) for line in lines) if m), None)
    stepped = next((m for m in (_STEPPED.search(line) for line in lines) if m), None)
    slewed = next((m for m in (_SLEWED.search(line) for line in lines) if m), None)
    if any("no eligible servers" in line for line in lines):
        return SyncRun(SyncKind.NO_SERVER, next(line for line in lines if "no eligible servers" in line))
    if rc == 0 and (report or stepped or slewed):
        address = report.group(3) if report else None
        if stepped:
            return SyncRun(SyncKind.SYNCED, stepped.group(0), "step", address, float(stepped.group(1)))
        if slewed:
            return SyncRun(SyncKind.SYNCED, slewed.group(0), "adjust", address, float(slewed.group(1)))
        if report:
            return SyncRun(SyncKind.SYNCED, report.group(0), "adjust", address, float(report.group(1)))
    return SyncRun(SyncKind.ERROR, lines[-1] if lines else f"exit {rc}")
