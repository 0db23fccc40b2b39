"""Cron schedule fields, read as Vixie cron (and cronie) read them.

``parse_schedule("*/15 9-17 * * mon-fri")`` checks each field (numbers, ``*``, ranges,
lists, ``/step``, month and day names, day 7 = Sunday) and returns a ``Schedule`` whose
``expression`` is numeric and safe to hand to croniter, plus the two flags croniter
cannot know from its own parse:

- ``day_or``: Vixie cron matches a day when day-of-month OR day-of-week matches, unless
  either field starts with ``*`` (then both must match, which makes the ``*`` one free);
- ``fixed``: neither minute nor hour starts with ``*``; cron runs such a job once when a
  DST change repeats an hour, and runs it late when a DST change skips it.
"""

from __future__ import annotations

from dataclasses import dataclass

from runbook.errors import ScheduleError

SPECIALS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
"""The ``@`` nicknames cron expands (``@reboot`` has no time and is handled apart)."""

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

# name, lowest, highest, names (index 0 = lowest)
_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)


@dataclass(frozen=True)
class Schedule:
    """A checked five-field schedule: numeric croniter expression and Vixie's flags."""

    text: str
    expression: str
    day_or: bool
    fixed: bool


def parse_schedule(text: str) -> Schedule:
    """Check ``text`` (five fields or an ``@`` nickname) and normalise it for croniter."""
    spelled = SPECIALS.get(text.strip().lower(), text)
    parts = spelled.split()
    if len(parts) != 5:
        raise ScheduleError(f"a schedule has 5 fields, {text!r} has {len(parts)}")
    numeric = [_field(part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)]
    starred = [part.startswith("*") for part in parts]
    return Schedule(
        text=text.strip(),
        expression=" ".join(numeric),
        day_or=not (starred[2] or starred[4]),
        fixed=not (starred[0] or starred[1]),
    )


def _field(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> str:
    if text == "*":
        return "*"
    values: set[int] = set()
    for item in text.split(","):
        values.update(_item(item, name, low, high, names))
    if name == "day of week" and 7 in values:
        values = (values - {7}) | {0}
    return ",".join(str(value) for value in sorted(values))


def _item(item: str, name: str, low: int, high: int, names: tuple[str, ...]) -> range:
    span, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not step_text.isdecimal() or int(step_text) == 0:
            raise ScheduleError(f"{name}: step {step_text!r} in {item!r} is not a number above zero")
        step = int(step_text)
    if span == "*":
        first, last = low, high
    elif "-" in span:
        start_text, _, end_text = span.partition("-")
        first = _number(start_text, name, low, high, names)
        last = _number(end_text, name, low, high, names)
        if last < first:
            raise ScheduleError(f"{name}: range {span!r} runs backwards")
    else:
        first = _number(span, name, low, high, names)
        last = high if slash else first
    return range(first, last + 1, step)


def _number(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if text.isdecimal() and text.isascii():
        value = int(text)
    elif text.lower() in names:
        value = names.index(text.lower()) + (1 if name == "month" else 0)
    else:
        raise ScheduleError(f"{name}: {text!r} is not a number or a name")
    if not low <= value <= high:
        raise ScheduleError(f"{name}: {value} is outside {low}-{high}")
    return value
