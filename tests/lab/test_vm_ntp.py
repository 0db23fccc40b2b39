"""The seed incident on a real Debian 11 VM: SysV init, classic ntp 4.2.8 ntpd and ntpdate, real kernel.

Nothing here is a stand-in: the "socket in use" line is the real ntpdate's, the step is the guest
kernel's, ntpd is enabled at boot by Debian's update-rc.d (there is no chkconfig).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from test_post_maint import commands_of, host_record, post_maint, steps_of
from vm_support import guest_offset

from lab import Lab, LabHost

pytestmark = pytest.mark.lab


def test_seed_on_debian11_fixed_then_left_alone(lab: Lab, vm: Callable[..., LabHost], tmp_path: Path) -> None:
    host = vm("vm-ntp")
    offset, _ = guest_offset(host)
    assert offset == pytest.approx(-10800, abs=10)
    assert host.run("/usr/sbin/service ntp status").returncode != 0

    done = post_maint(lab, tmp_path, host.name)
    assert done.returncode == 0, done.stdout + done.stderr
    steps = steps_of(host_record(tmp_path, host.name))
    sync = steps["one_shot_sync"]
    outputs = "\n".join(c["stdout"] + c["stderr"] for c in sync["commands"])
    assert "the NTP socket is in use, exiting" in outputs
    assert sync["data"]["fallback"] is True
    assert sync["data"]["stepped"] == pytest.approx(10800, abs=10)
    enable = steps["start_enable_daemon"]
    assert enable["outcome"] == "changed"
    assert any("update-rc.d" in command for command in commands_of(enable))
    assert steps["verify"]["outcome"] == "ok"
    assert steps["rerun_backup"]["data"]["rerun"] is True
    assert steps["check_site"]["outcome"] == "ok"

    offset, bound = guest_offset(host)
    assert abs(offset) < 0.5 + bound
    assert host.run("/usr/sbin/service ntp status").returncode == 0
    links = host.run("ls /etc/rc2.d /etc/rc3.d /etc/rc4.d /etc/rc5.d").stdout.split()
    assert sum(1 for name in links if name.startswith("S") and name.endswith("ntp")) == 4
    markdown = sorted(tmp_path.glob(f"{host.name}-*.md"))[-1].read_text()
    assert "the NTP socket is in use, exiting" in markdown

    again = tmp_path / "again"
    second = post_maint(lab, again, host.name)
    assert second.returncode == 0, second.stdout + second.stderr
    outcomes = {result["step"]: result["outcome"] for result in host_record(again, host.name)["results"]}
    assert set(outcomes.values()) <= {"ok", "skipped"}, outcomes


def test_a_clock_ahead_is_not_stepped_back_without_the_flag(
    lab: Lab, vm: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = vm("vm-ntp", fresh=True, offset="+2h")
    before, _ = guest_offset(host)
    assert before == pytest.approx(7200, abs=10)

    done = post_maint(lab, tmp_path, host.name)
    assert done.returncode == 1, done.stdout + done.stderr
    steps = steps_of(host_record(tmp_path, host.name))
    refused = [step for step in steps.values() if "AHEAD" in step["message"]]
    assert refused and refused[0]["outcome"] == "failed", steps
    assert "--allow-backward-step" in refused[0]["message"]
    after, bound = guest_offset(host)
    assert after == pytest.approx(before, abs=2 + bound), "the clock was stepped back"
    assert host.run("/usr/sbin/service ntp status").returncode != 0
