"""Cron state for lab profiles: the machine's own cron files hidden, schedules written relative to "now".

A lab host sees the machine's /etc and /var under its template layer, so the machine's
/etc/cron.d/e2scrub_all or /etc/cron.daily/man-db would show up in its schedule. A profile
calls ``hide_machine_cron(template)`` from its ``populate`` so only its own cron files count,
and writes seeded crontabs with ``daily_at`` so a job lands at a known distance from the
moment the host was prepared, whatever the time of day.
"""

from __future__ import annotations

import os
import stat
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

CRON_DIRS = (
    "etc/cron.d",
    "etc/cron.hourly",
    "etc/cron.daily",
    "etc/cron.weekly",
    "etc/cron.monthly",
    "var/spool/cron",
    "var/spool/anacron",
)
RUN_PARTS_DIRS = ("etc/cron.hourly", "etc/cron.daily", "etc/cron.weekly", "etc/cron.monthly")
_OPAQUE = "trusted.overlay.opaque"


def hide_machine_cron(template: Path) -> None:
    """Make the template's cron folders opaque (overlayfs), so the machine's cron files stay hidden;
    the profile's run-parts scripts become executable, as their packages install them."""
    for relative in CRON_DIRS:
        folder = template / relative
        folder.mkdir(parents=True, exist_ok=True)
        os.setxattr(folder, _OPAQUE, b"y")
    for relative in RUN_PARTS_DIRS:
        for script in (template / relative).iterdir():
            script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def daily_at(moment: float, zone: str | None = None) -> str:
    """The five fields of a daily job that runs at ``moment`` (epoch seconds) on the wall clock of
    ``zone`` (default: the machine's zone, which lab hosts share)."""
    when = datetime.fromtimestamp(moment, ZoneInfo(zone)) if zone else datetime.fromtimestamp(moment)
    return f"{when.minute} {when.hour} * * *"


def day_stamp(moment: float) -> str:
    """anacron's ``YYYYMMDD`` timestamp for the day of ``moment`` in the machine's zone."""
    return datetime.fromtimestamp(moment).strftime("%Y%m%d")
