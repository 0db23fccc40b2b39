"""The maintenance window, inferred from the host when none was given.

Order of preference (the first that applies wins):

1. a pause: the host's clock lags true time by at least ``min_lag`` and the host booted
   before the lag began (or its boot time is unknown): the host was suspended, so the
   window is ``[now - |offset| - margin, now]``;
2. a reboot: the current boot is recent (within ``horizon``) and a ``shutdown`` record
   precedes it: the window runs from the shutdown to the boot, plus ``margin``;
3. a clock lag of at least ``min_lag`` that the boot time does not explain (no shutdown
   record): the window is the lag, as in 1 (a host rebooted during a long pause);
4. a recent boot without a shutdown record (a crash or power-off): the window runs from
   ``lookback`` before the boot to the boot, plus ``margin`` (its start is assumed);
5. otherwise no window.

Host times are corrected by the measured offset (true = host + offset). ``btime`` from
/proc/stat is the host's current clock minus its uptime, so it needs the offset measured when
it was read (``boot_offset``); corrected, it is the boot by true time when the clock was already
off at boot, and the latest the boot can have been after a pause (a paused VM's clock and uptime
both stop, so it booted up to the lag earlier).
Shutdown records were written by the clock before the maintenance and are taken as
written. ``now`` is true time (the controller's reference). All parsers never raise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from runbook.settings import Window

_DATE = r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}"
_SHUTDOWN = re.compile(rf"^shutdown\s+system down\s+.*?({_DATE})(?:\s+-\s+({_DATE}))?")
HORIZON = 2 * 86400.0
"""Seconds a boot stays recent: shutdown records before an older boot are ignored (rule 2)."""
MIN_LAG = 300.0
"""Seconds of clock lag that make a window by themselves (rules 1 and 3)."""


@dataclass(frozen=True)
class Downtime:
    """One ``shutdown`` record of ``last -x -F``: when the host went down and came back up."""

    down: datetime
    up: datetime | None


def parse_btime(text: str) -> datetime | None:
    """Boot time from ``/proc/stat``'s ``btime N`` line (or a bare number), as aware UTC."""
    for line in text.splitlines():
        words = line.split()
        value = words[-1] if words and words[0] in {"btime", words[-1]} else ""
        if value.isdecimal() and value.isascii() and len(value) < 12:
            return datetime.fromtimestamp(int(value), UTC)
    return None


def parse_uptime_since(text: str, zone: str) -> datetime | None:
    """Boot time from ``uptime -s`` (``2017-08-22 05:00:12``, host local time)."""
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=ZoneInfo(zone))
    except (ValueError, KeyError, OSError):
        return None


def parse_last(text: str, zone: str) -> tuple[Downtime, ...]:
    """The ``shutdown`` records of ``LC_ALL=C last -x -F shutdown reboot``, newest first."""
    try:
        tz = ZoneInfo(zone)
    except (ValueError, KeyError, OSError):
        tz = ZoneInfo("UTC")
    records: list[Downtime] = []
    for line in text.splitlines():
        found = _SHUTDOWN.match(line.strip())
        if found is None:
            continue
        down = _last_time(found.group(1), tz)
        up = _last_time(found.group(2), tz) if found.group(2) else None
        if down is not None:
            records.append(Downtime(down, up))
    return tuple(records)


def infer_window(
    *,
    now: datetime,
    boot: datetime | None = None,
    shutdowns: tuple[Downtime, ...] = (),
    offset: float | None = None,
    boot_offset: float | None = None,
    min_lag: float = MIN_LAG,
    margin: float = 300.0,
    horizon: float = HORIZON,
    lookback: float = 6 * 3600.0,
) -> Window | None:
    """The window by the order in the module docstring; ``source`` says how it was found.

    ``boot`` is the host's boot time by its own clock (``parse_btime``), ``offset`` true
    minus host time in seconds (positive: host behind) as first measured, ``None`` when not
    measured. ``boot_offset`` is the offset when ``boot`` was read, if that was later (after
    the clock was fixed, btime is already true time); it defaults to ``offset``.
    """
    shift = timedelta(seconds=(offset if boot_offset is None else boot_offset) or 0.0)
    lag = abs(offset or 0.0)
    true_boot = boot + shift if boot is not None else None
    pad = timedelta(seconds=margin)
    word = "lag" if (offset or 0.0) > 0 else "lead"
    from_lag = Window(
        now - timedelta(seconds=lag) - pad, now, f"inferred from the {_human(lag)} clock {word}"
    )
    if lag >= min_lag and (true_boot is None or true_boot <= now - timedelta(seconds=lag)):
        return from_lag
    if true_boot is None or true_boot < now - timedelta(seconds=horizon) or true_boot > now:
        return from_lag if lag >= min_lag else None
    boot_text = _stamp(true_boot)
    for record in shutdowns:
        if record.down < true_boot and (record.up is None or abs(record.up + shift - true_boot) <= pad):
            return Window(
                record.down,
                true_boot + pad,
                f"inferred from the shutdown at {_stamp(record.down)} and the boot at {boot_text}",
            )
    if lag >= min_lag:
        return from_lag
    assumed = f"no shutdown record; start assumed {_human(lookback)} earlier"
    return Window(
        true_boot - timedelta(seconds=lookback),
        true_boot + pad,
        f"inferred from the boot at {boot_text} ({assumed})",
    )


def _last_time(text: str, tz: ZoneInfo) -> datetime | None:
    try:
        return datetime.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S %Y").replace(tzinfo=tz)
    except ValueError:
        return None


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _human(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"
