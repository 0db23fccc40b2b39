"""The four Monitoring Plugins states (their exit codes) and how several combine."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class State(IntEnum):
    """A plugin state; its value is the plugin's exit status."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


_SEVERITY = (State.OK, State.UNKNOWN, State.WARNING, State.CRITICAL)
"""Worst last: an unknown host is worse than a healthy one, but a host known to be broken is
worse still (Monitoring::Plugin's ``max_state_alt`` order)."""


def worst(states: Iterable[State]) -> State:
    """The worst of ``states`` (OK for none)."""
    return max(states, key=_SEVERITY.index, default=State.OK)


def parse_level(text: str, what: str) -> State | None:
    """``critical``/``warning``/``ignore`` as the state a condition raises (``None``: ignored)."""
    levels = {"critical": State.CRITICAL, "warning": State.WARNING, "ignore": None}
    key = text.strip().lower()
    if key not in levels:
        raise ValueError(f"{what} takes critical, warning or ignore, not {text!r}")
    return levels[key]
