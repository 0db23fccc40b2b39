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


def rtc_outside_system(host: LabHost) -> float:
    """How far ``hwclock -r`` lies outside the system clock read just before and just after it (0 if inside).

    hwclock waits up to a second for the RTC's tick and prints the RTC time as of its own start
    (util-linux ``display_time(hclocktime, time_diff(read_time, startup_time))``), so that instant
    lies between the two ``date`` samples; a busy guest makes the interval long, not the RTC wrong.
    """
    stamp = "date '+%Y-%m-%d %H:%M:%S.%N%:z'"
    done = host.run(f"{stamp}; hwclock -r; {stamp}", check=True)
    before, rtc, after = (_parse(line) for line in done.stdout.strip().splitlines()[-3:])
    if rtc < before:
        return (before - rtc).total_seconds()
    return max(0.0, (rtc - after).total_seconds())


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
    assert rtc_outside_system(host) < 0.5


def test_timesyncd_fixed_after_a_real_suspend(lab: Lab, vm: Callable[..., LabHost], tmp_path: Path) -> None:
    host = vm("vm-timesyncd", offset="0")
    synced = "timedatectl show -p NTPSynchronized --value | grep -qx yes"
    assert host.run(f"for i in $(seq 60); do {synced} && exit 0; sleep 1; done; exit 1").returncode == 0
    suspended(lab, host)

    done = post_maint(lab, tmp_path, host.name)
    assert done.returncode == 0, done.stdout + done.stderr
    steps = steps_of(host_record(tmp_path, host.name))
    assert steps["check_date"]["data"]["offset"] == pytest.approx(PAUSE, abs=5)
    assert steps["verify"]["outcome"] == "ok"
    offset, bound = guest_offset(host)
    assert abs(offset) < 0.5 + bound


def test_ntpsec_fixed_after_a_real_suspend_and_its_one_server_trap_named(
    lab: Lab, vm: Callable[..., LabHost], tmp_path: Path
) -> None:
    """Debian's ntpsec (``tos minclock 4 minsane 3``) with one server line never selects a system peer:
    the clock is fixed by the one-shot sync, and verify says why ntpsec will not keep it, at once."""
    host = vm("vm-ntpsec", offset="0")
    suspended(lab, host)

    done = post_maint(lab, tmp_path, host.name)
    assert done.returncode == 1, done.stdout + done.stderr
    steps = steps_of(host_record(tmp_path, host.name))
    assert steps["check_date"]["data"]["offset"] == pytest.approx(PAUSE, abs=5)
    assert steps["one_shot_sync"]["outcome"] == "changed"
    verify = steps["verify"]
    assert verify["outcome"] == "failed"
    assert "ntpsec can never select a system peer: /etc/ntpsec/ntp.conf has 1 server" in verify["message"]
    assert verify["duration"] < 10, "verify waited for a peer that cannot come"
    offset, bound = guest_offset(host)
    assert abs(offset) < 0.5 + bound
    peers = host.run("ntpq -pn").stdout
    assert "*" not in peers
