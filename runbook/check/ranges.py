"""Threshold ranges in the Monitoring Plugins syntax, and the state a value is in.

``[@]start:end`` (development guidelines, "Threshold and ranges"): ``start`` and the colon may
be left out when start is 0; an empty end is +infinity; ``~`` as start is -infinity. A value
outside ``start..end`` (endpoints inclusive) raises the alert; with ``@``, a value inside it
does. ``10`` alerts below 0 or above 10, ``10:`` below 10, ``~:10`` above 10, ``@10:20`` from
10 to 20. ``Thresholds.state`` checks critical first, then warning, as the plugins'
``get_status`` does.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from runbook.check.states import State

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class RangeError(ValueError):
    """A threshold range that does not follow the guidelines' syntax; the message says why."""


@dataclass(frozen=True)
class Range:
    """``start..end`` (inclusive, possibly infinite); ``inside``: alert inside instead of outside."""

    start: float
    end: float
    inside: bool = False
    text: str = ""

    def alerts(self, value: float) -> bool:
        """Whether ``value`` raises this range's alert."""
        within = self.start <= value <= self.end
        return within if self.inside else not within


def parse_range(text: str, what: str = "range") -> Range:
    """The range ``text`` stands for; ``RangeError`` naming ``what`` and the problem otherwise."""
    raw = text.strip()
    inside = raw.startswith("@")
    body = raw[1:] if inside else raw
    start_text, colon, end_text = body.partition(":")
    if not colon:
        start_text, end_text = "0", body
    if not body or (not colon and not end_text):
        raise RangeError(f"{what} {text!r} is empty: give e.g. 0.5 (alert above 0.5) or 10:20")
    start = -math.inf if start_text == "~" else _number(start_text or "0", text, what)
    end = math.inf if end_text == "" else _number(end_text, text, what)
    if start > end:
        raise RangeError(f"{what} {text!r} starts after it ends: write START:END with START <= END")
    return Range(start, end, inside, raw)


def _number(part: str, text: str, what: str) -> float:
    if not _NUMBER.fullmatch(part):
        raise RangeError(
            f"{what} {text!r}: {part!r} is not a number; the syntax is [@]START:END "
            "(e.g. 0.5, 10:, ~:10, @10:20)"
        )
    return float(part)


@dataclass(frozen=True)
class Thresholds:
    """A warning and a critical range (either may be absent)."""

    warning: Range | None = None
    critical: Range | None = None

    def state(self, value: float) -> State:
        """CRITICAL when the critical range alerts, else WARNING when the warning range does, else OK."""
        if self.critical is not None and self.critical.alerts(value):
            return State.CRITICAL
        if self.warning is not None and self.warning.alerts(value):
            return State.WARNING
        return State.OK
