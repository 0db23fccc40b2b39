"""Real Debian 12 time daemons (chrony, systemd-timesyncd, ntpsec) after a real pause of their VM.

The VM is synchronised, then paused with QMP for ``PAUSE`` seconds (``Lab.suspend``, what a provider's
maintenance does): its clock does not count the pause, so it comes back that far behind, and the
runbook fixes it through the daemon. Afterwards the RTC agrees with the system clock (``sync_rtc``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from test_post_maint import host_record, post_maint, steps_of
from vm_support import guest_offset

from lab import Lab, LabHost

pytestmark = pytest.mark.lab
PAUSE = 30.0


def suspended(lab: Lab, host: LabHost) -> float:
    """Pause ``host`` for PAUSE s; its clock offset afterwards (asserted to be about -PAUSE)."""
    paused = lab.suspend(host.name, PAUSE)
    offset, bound = guest_offset(host)
    assert offset == pytest.approx(-paused, abs=3 + bound), f"paused {paused:.1f} s, offset {offset:+.1f} s"
    return offset


def rtc_minus_system(host: LabHost) -> float:
    """``hwclock -r`` minus the system clock read right after it, in one session on the guest."""
    done = host.run("hwclock -r; date '+%Y-%m-%d %H:%M:%S.%N%:z'", check=True)
    rtc, system = done.stdout.strip().splitlines()[-2:]
    return (_parse(rtc) - _parse(system)).total_seconds()


def _parse(text: str) -> datetime:
    """``2026-12-05 18:10:00.123456+00:00`` (hwclock) or with nanoseconds (date)."""
    match = re.fullmatch(r"(\S+ \d+:\d+:\d+)\.(\d+)([+-]\d\d:\d\d)", text.strip())
    assert match, f"unexpected time {text!r}"
    day, fraction, zone = match.groups()
    return datetime.fromisoformat(f"{day}.{fraction[:6]}{zone}")


def test_chrony_fixed_after_a_real_suspend(lab: Lab, vm: Callable[..., LabHost], tmp_path: Path) -> None:
    host = vm("vm-chrony", offset="0")
    assert host.run("chronyc waitsync 60 0.1 0 1").returncode == 0
    suspended(lab, host)

    done = post_maint(lab, tmp_path, host.name)
    assert done.returncode == 0, done.stdout + done.stderr
    steps = steps_of(host_record(tmp_path, host.name))
    assert steps["check_date"]["data"]["offset"] == pytest.approx(PAUSE, abs=5)
    assert steps["verify"]["outcome"] == "ok"
    offset, bound = guest_offset(host)
    assert abs(offset) < 0.5 + bound
    assert steps["sync_rtc"]["outcome"] == "changed"
    assert abs(rtc_minus_system(host)) < 1.0
