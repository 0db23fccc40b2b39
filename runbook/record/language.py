"""The record's language: gettext catalogs (``runbook/locale``) and how numbers, times and durations read.

Messages are English ``%(name)s`` strings marked with ``lang._`` / ``lang.n`` and translated
through the ``runbook`` gettext domain (Babel extracts and compiles them: see docs/templates.md).
English is the source language, so it needs no catalog.
"""

from __future__ import annotations

import functools
import gettext
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any


def N_(message: str) -> str:
    """``message`` unchanged; marks it for extraction (it is translated where it is shown)."""
    return message


BUILT_IN_TITLES = (
    N_("check date"),
    N_("restart time daemon"),
    N_("one-shot sync"),
    N_("start + enable daemon"),
    N_("verify"),
    N_("sync hardware clock"),
    N_("rerun missed backup"),
    N_("missed cron jobs"),
    N_("check site"),
    N_("compare with before"),
)
"""The built-in steps' titles, so the catalogs have them (a record translates any title it has)."""

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "runbook"


@functools.cache
def _catalog(code: str) -> gettext.NullTranslations:
    if code == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, [code])


class Language:
    """Translated messages and localised numbers, times and durations for one record."""

    def __init__(self, code: str = "en") -> None:
        self.code = code
        self.catalog = _catalog(code)
        self.ja = code == "ja"

    def _(self, message: str, /, **values: Any) -> str:
        """``message`` translated, then filled with ``values``."""
        text = self.catalog.gettext(message)
        return text % values if values else text

    def n(self, singular: str, plural: str, count: int, /, **values: Any) -> str:
        """The singular or plural message for ``count`` (passed as ``%(n)d``), translated and filled."""
        text = self.catalog.ngettext(singular, plural, count)
        return text % {"n": count, **values}

    def join(self, items: list[str]) -> str:
        """Items as one list: ``a, b and c`` / ``a、b、c``."""
        if self.ja:
            return "、".join(items)
        if len(items) <= 2:
            return " and ".join(items)
        return f"{', '.join(items[:-1])} and {items[-1]}"

    def duration(self, seconds: float) -> str:
        """``3 h 0 min 12 s`` / ``3時間0分12秒``; under a minute ``12.3 s`` / ``12.3 秒``."""
        if abs(seconds) < 59.95:
            return self.seconds(abs(seconds))
        rest = round(abs(seconds))  # whole seconds first: 10,799.99998 s is 3 h 0 min 0 s
        units = (("d", 86400), ("h", 3600), ("min", 60))
        names = {"d": "日", "h": "時間", "min": "分", "s": "秒"} if self.ja else {}
        parts: list[str] = []
        for unit, size in units:
            if rest >= size or parts:
                count = int(rest // size)
                rest -= count * size
                parts.append(f"{count}{names[unit]}" if self.ja else f"{count} {unit}")
        parts.append(f"{rest}秒" if self.ja else f"{rest} s")
        return "".join(parts) if self.ja else " ".join(parts)

    def age(self, seconds: float) -> str:
        """How long ago, to the minute: ``1 d 2 h 49 min`` / ``1日2時間49分``."""
        if abs(seconds) < 3600:
            return self.duration(seconds)
        text = self.duration(round(abs(seconds) / 60) * 60)
        return text.removesuffix("0秒") if self.ja else text.removesuffix(" 0 s")

    def seconds(self, value: float) -> str:
        """A short duration: ``0.3 s`` / ``0.3 秒``; a minute or more as ``duration``."""
        if value >= 60:
            return self.duration(value)
        return f"{value:.1f} 秒" if self.ja else f"{value:.1f} s"

    def bound(self, value: float) -> str:
        """The error bound, the same way everywhere: ``±3 ms``, ``±0.1 ms``, ``±1.200 s``."""
        if value >= 1:
            return f"±{value:.3f} s"
        ms = value * 1000
        return f"±{ms:.0f} ms" if ms >= 9.95 else f"±{ms:.1f} ms"

    def amount(self, value: float) -> str:
        """An offset's size with sensible digits: ``10,800.000 s``, ``4.0 ms``, ``12 µs``."""
        size = abs(value)
        if size >= 1:
            return f"{size:,.3f} 秒" if self.ja else f"{size:,.3f} s"
        if size >= 0.001:
            return f"{size * 1000:.1f} ms"
        return f"{size * 1e6:.0f} µs"

    def offset(self, value: float, bound: float | None = None) -> str:
        """An offset in words (+ = host behind): ``3 h 0 min 0 s behind (10,800.000 s, ±0.1 ms)``."""
        detail = [self.amount(value)] if abs(value) >= 60 else []
        if bound is not None:
            detail.append(self.bound(bound))
        inside = ("、" if self.ja else ", ").join(detail)
        extra = (f"（{inside}）" if self.ja else f" ({inside})") if inside else ""
        if (bound is not None and abs(value) <= bound) or round(value, 6) == 0:
            return self._("in step") + extra
        size = self.duration(value) if abs(value) >= 60 else self.amount(value)
        if value > 0:
            return self._("%(size)s behind", size=size) + extra
        return self._("%(size)s ahead", size=size) + extra

    def moment(self, when: datetime, zone: tzinfo, *, seconds: bool = False) -> str:
        """``2017-08-22 09:12 JST (00:12 UTC)``: the operator's zone with UTC beside it."""
        fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
        local = when.astimezone(zone)
        utc = when.astimezone(UTC)
        first = f"{local.strftime(fmt)} {local.tzname()}"
        if local.utcoffset() == utc.utcoffset():
            return f"{utc.strftime(fmt)} UTC"
        short = fmt if local.date() != utc.date() else fmt.removeprefix("%Y-%m-%d ")
        return f"{first} ({utc.strftime(short)} UTC)"

    def span(self, start: datetime, end: datetime | None, zone: tzinfo, *, seconds: bool = False) -> str:
        """``2017-08-22 02:00–05:00 JST (2017-08-21 17:00–20:00 UTC)``; no end: the start alone."""
        if end is None:
            return self.moment(start, zone, seconds=seconds)
        fmt = "%H:%M:%S" if seconds else "%H:%M"

        def one(a: datetime, b: datetime) -> str:
            last = b.strftime(fmt if b.date() == a.date() else f"%Y-%m-%d {fmt}")
            return f"{a.strftime(f'%Y-%m-%d {fmt}')}–{last} {a.tzname()}"

        local = one(start.astimezone(zone), end.astimezone(zone))
        utc = one(start.astimezone(UTC), end.astimezone(UTC))
        if start.astimezone(zone).utcoffset() == start.astimezone(UTC).utcoffset():
            return utc
        return f"{local} ({utc})"

    def epoch(self, ts: float, zone: tzinfo) -> str:
        return self.moment(datetime.fromtimestamp(ts, UTC), zone)
