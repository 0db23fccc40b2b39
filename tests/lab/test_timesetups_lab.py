"""post-maint on every time setup's lab profile, over real SSH, with no profile-specific flag.

Profiles (built by the lab side): debian12 (systemctl + real ntpsec ntpd + the ntpsec ntpdate
wrapper), el9 (systemctl + real chronyd -x + chronyc stand-in), ubuntu (systemctl +
timedatectl/timesyncd stand-ins), alpine (OpenRC + chronyd + BusyBox date). For each: a
broken host is fixed and the record names daemon and init; a healthy host is left alone.
Then: chrony and ntpd both installed with one enabled, and a 40-year backward step.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from test_post_maint import commands_of, host_record, post_maint, steps_of

from lab import Lab, LabHost

pytestmark = pytest.mark.lab

SETUPS = {
    "debian12": ("ntpsec", "systemd"),
    "el9": ("chronyd", "systemd"),
    "ubuntu": ("systemd-timesyncd", "systemd"),
    "alpine": ("chronyd", "openrc"),
}
TIME_STEPS = ("restart_daemon", "one_shot_sync", "start_enable_daemon", "verify")


@pytest.mark.parametrize("profile", sorted(SETUPS))
def test_broken_host_is_fixed(profile: str, lab: Lab, lab_host: Callable[..., LabHost], tmp_path) -> None:  # type: ignore[no-untyped-def]
    daemon, init = SETUPS[profile]
    host = lab_host(profile=profile, offset="-3h", daemon="stopped")
    done = post_maint(lab, tmp_path, host.name)
    record = host_record(tmp_path, host.name)
    steps = steps_of(record)
    assert done.returncode == 0, (
        done.stdout + done.stderr + str([(s, r["message"]) for s, r in steps.items()])
    )
    assert record["facts"]["daemon"] == daemon and record["facts"]["init"] == init
    assert abs(steps["verify"]["data"]["offset"]) < 0.5 and steps["verify"]["data"]["synchronised"] is True
    assert lab.clock_offset(host.name) == pytest.approx(0, abs=1)
    assert any(steps[name]["outcome"] == "changed" for name in TIME_STEPS)
    assert steps["start_enable_daemon"]["data"]["running"] is True


@pytest.mark.parametrize("profile", sorted(SETUPS))
def test_healthy_host_is_left_alone(
    profile: str, lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host(profile=profile, offset="0s", daemon="running")
    done = post_maint(lab, tmp_path, host.name)
    assert done.returncode == 0, done.stdout + done.stderr
    record = host_record(tmp_path, host.name)
    steps = steps_of(record)
    for name in (*TIME_STEPS, "sync_rtc"):
        assert steps[name]["outcome"] == "ok", (name, steps[name]["message"])
        assert not any(" restart" in c or " start" in c or "makestep" in c for c in commands_of(steps[name]))


def test_chrony_and_ntpd_installed_one_enabled(
    lab: Lab,
    lab_host: Callable[..., LabHost],
    tmp_path: Path,
) -> None:
    host = lab_host(profile="el9", offset="-3h", daemon="stopped", second_daemon="ntpd")
    assert host.run("systemctl is-enabled ntpd").stdout.strip() == "disabled"
    done = post_maint(lab, tmp_path, host.name)
    assert done.returncode == 0, done.stdout + done.stderr
    record = host_record(tmp_path, host.name)
    steps = steps_of(record)
    assert record["facts"]["daemon"] == "chronyd"
    assert any("the one enabled at boot" in w for w in steps["restart_daemon"]["warnings"])
    ran = [command for name in TIME_STEPS for command in commands_of(steps[name])]
    read_only = ("LC_ALL=C sh -c ", "LC_ALL=C; export LC_ALL; rb_s=")
    changes = [command for command in ran if not command.startswith(read_only)]
    assert changes and not any("ntpd" in command.replace("chronyd", "") for command in changes), changes
    assert host.run("systemctl is-active ntpd").stdout.strip() == "inactive"
    assert lab.clock_offset(host.name) == pytest.approx(0, abs=1)


def test_forty_year_backward_step_needs_the_flag(
    lab: Lab,
    lab_host: Callable[..., LabHost],
    tmp_path: Path,
) -> None:
    host = lab_host(profile="el9", offset="+40y", daemon="stopped")
    refused = post_maint(lab, tmp_path / "refused", host.name)
    assert refused.returncode == 1
    steps = steps_of(host_record(tmp_path / "refused", host.name))
    assert (
        steps["restart_daemon"]["outcome"] == "failed"
        and "--allow-backward-step" in steps["restart_daemon"]["message"]
    )
    assert lab.clock_offset(host.name) == pytest.approx(40 * 365.25 * 86400, rel=0.01)

    dry = post_maint(lab, tmp_path / "dry", host.name, extra=("--dry-run",))
    assert "refused" in steps_of(host_record(tmp_path / "dry", host.name))["restart_daemon"]["message"]
    assert dry.returncode == 1

    done = post_maint(lab, tmp_path / "allowed", host.name, extra=("--allow-backward-step",))
    assert done.returncode == 0, done.stdout + done.stderr
    assert lab.clock_offset(host.name) == pytest.approx(0, abs=1)
