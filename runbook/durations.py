"""Signed durations written the way admins write them: ``-3h``, ``+90s``, ``1h30m``, ``+40y``, ``0.5``."""

from __future__ import annotations

import re

from runbook.errors import DurationError

_UNITS = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 7 * 86400.0,
    "y": 365.25 * 86400.0,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y))+$")


def parse_duration(text: str | float | int) -> float:
    """Seconds in ``text``: a bare number is seconds; units ms s m h d w y may be chained.

    >>> parse_duration("-3h"), parse_duration("1h30m"), parse_duration(90)
    (-10800.0, 5400.0, 90.0)
    """
    if isinstance(text, bool):
        raise DurationError(f"not a duration: {text!r}")
    if isinstance(text, int | float):
        return float(text)
    raw = text.strip().lower().replace(" ", "")
    sign = -1.0 if raw.startswith("-") else 1.0
    body = raw[1:] if raw[:1] in {"+", "-"} else raw
    if re.fullmatch(r"\d+(?:\.\d+)?", body):
        return sign * float(body)
    if not body or not _WHOLE.match(body):
        raise DurationError(
            f"not a duration: {text!r} (use seconds or a number with a unit: ms s m h d w y, "
            "signed if needed, e.g. -3h, +90s, 1h30m)"
        )
    return sign * sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(body))


def format_duration(seconds: float) -> str:
    """A short human form: ``-3h 0m 12s``, ``+1.234 s``, ``+40y 3d``."""
    sign = "-" if seconds < 0 else "+"
    rest = abs(seconds)
    if rest < 60:
        return f"{sign}{rest:.3f} s"
    parts: list[str] = []
    for unit in ("y", "d", "h", "m"):
        size = _UNITS[unit]
        if rest >= size or parts:
            count = int(rest // size)
            rest -= count * size
            if count or parts:
                parts.append(f"{count}{unit}")
    parts.append(f"{round(rest)}s")
    return sign + " ".join(parts)
