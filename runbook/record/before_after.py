"""The record's "Since before the maintenance" section: the ``compare`` step's findings as rows.

``since_before(run)`` is a template global (``before_after.md.j2`` uses it); ``None`` when the run
has no ``compare`` result.
"""

from __future__ import annotations

from typing import Any

from runbook.results import HostRun, Outcome

LEVEL_WORDS = {"failure": "**FAILED**", "warning": "warning", "info": "info"}


def since_before(run: HostRun) -> dict[str, Any] | None:
    """What the section shows: the snapshot compared with, a row per finding, what was restored,
    or the one-line reason the comparison was skipped."""
    result = next((r for r in run.results if r.step == "compare"), None)
    if result is None or "findings" not in result.data:
        bad_snapshot = result is not None and result.outcome is Outcome.SKIPPED and "snapshot" in result.data
        return {"skipped": result.message} if result is not None and bad_snapshot else None
    rows = [
        {
            "level": LEVEL_WORDS.get(str(finding["level"]), str(finding["level"])),
            "kind": finding["kind"],
            "subject": finding["subject"],
            "before": finding["before"] or "—",
            "now": finding["now"] or "—",
        }
        for finding in result.data.get("findings", [])
    ]
    return {
        "skipped": None,
        "snapshot": result.data.get("snapshot"),
        "taken": result.data.get("taken_utc"),
        "rows": rows,
        "restored": list(result.data.get("restored", [])),
    }
