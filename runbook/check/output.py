"""The check's output as the Monitoring Plugins guidelines want it, and as JSON.

One host: ``CLOCK STATE - finding; finding | perfdata``. Several: the first line is the worst
state with a count per state, followed by one line per host (``HOST STATE - findings``); all
perfdata goes on the first line, each label prefixed with its host, since an engine reads
everything after the first ``|`` of the later lines as perfdata too. Perfdata per host:
``offset`` (s, with the warning and critical ranges), ``bound`` (its error bound, s),
``rtt`` (the clock sample's round trip, s) and ``sync`` (1 synchronised, 0 not, U unknown).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from runbook.check.ranges import Thresholds
from runbook.check.states import State, worst
from runbook.check.verdict import HostCheck

SERVICE = "CLOCK"


def perf_label(label: str) -> str:
    """A perfdata label, quoted when it holds a blank; ``'`` doubled, ``=`` (never allowed) replaced."""
    text = label.replace("=", "_")
    if any(ch in text for ch in " '\t"):
        return "'" + text.replace("'", "''") + "'"
    return text


def perfdata(check: HostCheck, thresholds: Thresholds, prefix: str = "") -> list[str]:
    """The host's perfdata items (none when the offset was not measured)."""
    if check.offset is None:
        return []
    warn = thresholds.warning.text if thresholds.warning else ""
    crit = thresholds.critical.text if thresholds.critical else ""
    sync = "U" if check.synchronised is None else str(int(check.synchronised))
    items = [f"{perf_label(prefix + 'offset')}={check.offset:.6f}s;{warn};{crit};;"]
    if check.bound is not None:
        items.append(f"{perf_label(prefix + 'bound')}={check.bound:.6f}s;;;0;")
    if check.rtt is not None:
        items.append(f"{perf_label(prefix + 'rtt')}={check.rtt:.6f}s;;;0;")
    items.append(f"{perf_label(prefix + 'sync')}={sync};;;0;1")
    return items


def render(checks: Sequence[HostCheck], thresholds: Thresholds) -> str:
    """The plugin output (ending in a newline) for ``checks``, one per host."""
    state = overall(checks)
    if len(checks) == 1:
        check = checks[0]
        return _line(f"{SERVICE} {state.name} - {check.summary}", perfdata(check, thresholds)) + "\n"
    counts = ", ".join(
        f"{sum(c.state is s for c in checks)} {s.name.lower()}"
        for s in (State.CRITICAL, State.WARNING, State.UNKNOWN, State.OK)
        if any(c.state is s for c in checks)
    )
    perf = [item for c in checks for item in perfdata(c, thresholds, prefix=f"{c.host}_")]
    lines = [_line(f"{SERVICE} {state.name} - {len(checks)} hosts: {counts}", perf)]
    lines.extend(f"{c.host} {c.state.name} - {c.summary.replace('|', '/')}" for c in checks)
    return "\n".join(lines) + "\n"


def render_json(checks: Sequence[HostCheck]) -> str:
    """The same as JSON: the overall state and code, and each host's ``HostCheck.to_dict``."""
    state = overall(checks)
    document: dict[str, Any] = {
        "state": state.name,
        "code": int(state),
        "hosts": [c.to_dict() for c in checks],
    }
    return json.dumps(document, indent=2) + "\n"


def overall(checks: Sequence[HostCheck]) -> State:
    """The worst host state; UNKNOWN when there is no host at all."""
    return worst(c.state for c in checks) if checks else State.UNKNOWN


def _line(text: str, perf: list[str]) -> str:
    text = text.replace("|", "/")
    return f"{text} | {' '.join(perf)}" if perf else text
