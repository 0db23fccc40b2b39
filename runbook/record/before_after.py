"""The record's "Since before the maintenance" section: the ``compare`` step's findings as rows.

``since_before(run, lang, zone)`` is a template global (``before_after.md.j2`` uses it); ``None`` when the
run has no ``compare`` result. Levels, kinds, the states in the before and now columns and what
``--restore`` did are said in the record's language; names, addresses, paths and outputs are kept.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Any

from runbook import stepdata
from runbook.record.language import N_, Language
from runbook.results import HostRun, Outcome
from runbook.stepdata import SinceBefore

LEVEL_WORDS = {"failure": N_("FAILED"), "warning": N_("warning"), "info": N_("info")}
KIND_WORDS = {
    "service": N_("service"),
    "failed_unit": N_("failed unit"),
    "socket": N_("socket"),
    "mount": N_("mount"),
    "disk": N_("disk"),
    "fstab": N_("fstab"),
    "site": N_("site"),
    "command": N_("command"),
    "cron": N_("cron job"),
    "boot": N_("boot"),
    "kernel": N_("kernel"),
}
STATE_WORDS = frozenset(
    (
        N_("running"),
        N_("stopped"),
        N_("failed"),
        N_("gone"),
        N_("enabled"),
        N_("disabled"),
        N_("not running"),
        N_("listening"),
        N_("closed"),
        N_("not mounted"),
        N_("in fstab"),
        N_("scheduled"),
        N_("no answer"),
    )
)
"""The states ``runbook.snapshot.compare`` puts in a finding's before and now."""
RESTORE_WORDS = {
    "started": N_("started %(name)s"),
    "not_started": N_("could not start %(name)s"),
    "cannot": N_("cannot restore %(name)s (init %(init)s)"),
    "would_start": N_("would start %(name)s"),
    "would_start_enable": N_("would start %(name)s and enable it"),
}
_USED = re.compile(r"^(\d+)% used$")


def since_before(run: HostRun, code: str = "en", zone: tzinfo = UTC) -> dict[str, Any] | None:
    """What the section shows: the snapshot compared with (and when it was taken, in ``zone`` with
    UTC beside it), a row per finding, what was restored, or the one-line reason the comparison
    was skipped; words in the language ``code``."""
    compared = stepdata.last(run.results, SinceBefore)
    if compared is None:
        return None
    result, data = compared
    if data.findings is None:
        bad_snapshot = result.outcome is Outcome.SKIPPED and data.snapshot is not None
        return {"skipped": result.message} if bad_snapshot else None
    lang = Language(code)
    still = {(f["kind"], f["subject"]) for f in data.findings}
    restored = data.found is not None
    rows = [
        {
            "level": _level(str(finding["level"]), lang),
            "kind": _kind(str(finding["kind"]), lang),
            "subject": _kind(str(finding["subject"]), lang)  # boot and kernel are their own subject
            if finding["subject"] == finding["kind"]
            else finding["subject"],
            "before": _state(str(finding["before"]), lang),
            "now": lang._("%(now)s (fixed by --restore)", now=_state(str(finding["now"]), lang))
            if restored and (finding["kind"], finding["subject"]) not in still
            else _state(str(finding["now"]), lang),
        }
        for finding in (data.found if data.found is not None else data.findings)
    ]
    return {
        "skipped": None,
        "snapshot": data.snapshot,
        "taken": _taken(data.taken_utc, lang, zone),
        "rows": rows,
        "restored": _restored(result.data, lang),
    }


def _taken(value: object, lang: Language, zone: tzinfo) -> object:
    """The snapshot's ``taken_utc`` as the record shows times; as it is when it is not a time."""
    if not isinstance(value, str):
        return value
    try:
        taken = datetime.fromisoformat(value)
    except ValueError:
        return value
    return lang.moment(taken if taken.tzinfo else taken.replace(tzinfo=UTC), zone)


def _kind(kind: str, lang: Language) -> str:
    return lang._(KIND_WORDS[kind]) if kind in KIND_WORDS else kind


def _level(level: str, lang: Language) -> str:
    word = lang._(LEVEL_WORDS[level]) if level in LEVEL_WORDS else level
    return f"**{word}**" if level == "failure" else word


def _state(value: str, lang: Language) -> str:
    if not value:
        return "—"
    used = _USED.match(value)
    if used:
        return lang._("%(percent)s%% used", percent=used.group(1))
    return lang._(value) if value in STATE_WORDS else value


def _restored(data: dict[str, Any], lang: Language) -> list[str]:
    """What ``--restore`` did, from the step's ``restores`` (records before it: its English ``restored``)."""
    if "restores" not in data:
        return [str(item) for item in data.get("restored", [])]
    init = str(data.get("init", ""))
    return [
        lang._(RESTORE_WORDS[item["action"]], name=item["service"], init=init)
        for item in data["restores"]
        if item.get("action") in RESTORE_WORDS
    ]
