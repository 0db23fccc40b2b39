"""Each lab host's own boot time: a /proc/stat bound over the host's /proc, btime set by ``uptime``.

The lab host reads its btime from /proc/stat as a real server does; the file is the machine's
/proc/stat (copied when the host starts) with the host's btime: its own clock at start minus the
scenario's ``uptime`` (default 40 days). Then the runbook's window inference sees a recent boot
only on a host whose scenario says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from test_post_maint import host_record, post_maint, steps_of

from lab import Lab, LabError, LabHost, Scenario
from lab.hostproc import host_proc_stat, write_proc_stat

DAY = 86400.0
TOLERANCE = 60.0


# -- pure: the knob and the file ---------------------------------------------------------------


def test_uptime_knob_takes_durations_and_defaults_to_40_days() -> None:
    assert Scenario().uptime == 40 * DAY
    assert Scenario().with_knobs(uptime="2h").uptime == 7200.0
    assert Scenario().with_knobs(uptime="1d12h").uptime == 1.5 * DAY
    assert Scenario.from_dict({"offset": -10800.0}).uptime == 40 * DAY  # lab.json written before the knob
    assert Scenario.from_dict(Scenario(uptime=60.0).to_dict()).uptime == 60.0


@pytest.mark.parametrize(
    ("value", "says"),
    [("-2h", "negative"), ("soon", "scenario uptime: not a duration"), (float("nan"), "negative")],
)
def test_uptime_knob_refuses_what_no_host_has(value: object, says: str) -> None:
    with pytest.raises(LabError, match=says) as caught:
        Scenario().with_knobs(uptime=value)
    assert "40d" in str(caught.value) or "1h30m" in str(caught.value)


def test_proc_stat_keeps_the_machine_lines_and_sets_btime() -> None:
    machine = "cpu  1 2 3\ncpu0 1 2 3\nintr 5 0\nctxt 9\nbtime 1700000000\nprocesses 7\n"
    text = host_proc_stat(machine, 1600000000)
    assert text == machine.replace("btime 1700000000", "btime 1600000000")
    assert host_proc_stat("cpu  1 2 3\n", 5) == "cpu  1 2 3\nbtime 5\n"


def test_btime_follows_the_host_clock(tmp_path: Path) -> None:
    source = tmp_path / "stat"
    source.write_text("cpu  1 2 3\nbtime 1\n")
    target = tmp_path / "proc-stat"
    now = time.time()
    btime = write_proc_stat(target, uptime=2 * 3600, offset=-3 * 3600, source=source)
    assert btime == pytest.approx(now - 5 * 3600, abs=2)
    assert target.read_text() == f"cpu  1 2 3\nbtime {btime}\n"
    assert target.stat().st_mode & 0o777 == 0o444
    write_proc_stat(target, uptime=0, offset=0, source=source)  # rewritten over the read-only file
    with pytest.raises(LabError, match="before 1970"):
        write_proc_stat(target, uptime=100 * 365 * DAY, offset=0, source=source)


# -- on lab hosts ------------------------------------------------------------------------------


def boot_and_clock(host: LabHost) -> tuple[int, int]:
    """The host's btime from its /proc/stat and its clock (``date +%s``), over SSH."""
    done = host.run("sed -n 's/^btime //p' /proc/stat; date +%s", check=True)
    btime, now = (int(word) for word in done.stdout.split())
    return btime, now


@pytest.mark.lab
def test_hosts_have_their_own_boot_time(lab: Lab, lab_host: Callable[..., LabHost]) -> None:
    default, recent, behind = lab_host(), lab_host(uptime="2h"), lab_host(offset="-3h", uptime="1d")
    btime, now = boot_and_clock(default)
    assert now - btime == pytest.approx(40 * DAY, abs=TOLERANCE)
    btime, now = boot_and_clock(recent)
    assert now - btime == pytest.approx(2 * 3600, abs=TOLERANCE)
    # the host's clock is 3 h behind, and so is its boot time (as a real kernel's btime)
    btime, now = boot_and_clock(behind)
    assert now - btime == pytest.approx(DAY, abs=TOLERANCE)
    assert btime == pytest.approx(time.time() - 3 * 3600 - DAY, abs=TOLERANCE)

    stat = recent.run("cat /proc/stat", check=True).stdout
    assert stat.startswith("cpu ") and "\ncpu0 " in stat and "\nctxt " in stat
    assert recent.run("echo 'btime 1' >/proc/stat").returncode != 0  # read-only, even for root
    mounts = recent.run("grep ' /proc/stat ' /proc/self/mountinfo", check=True).stdout
    assert " ro," in mounts or " ro " in mounts
    # the bind lives in the host's mount namespace only; `down` (test_lab_lifecycle) checks none is left
    assert str(lab.layout.root) not in Path("/proc/self/mountinfo").read_text()


@pytest.mark.lab
def test_reset_rewrites_the_boot_time(lab: Lab, lab_host: Callable[..., LabHost]) -> None:
    host = lab_host(uptime="2h")
    btime, now = boot_and_clock(host)
    assert now - btime == pytest.approx(2 * 3600, abs=TOLERANCE)
    host = lab.reset(host.name, uptime="7d")
    assert lab.host(host.name).scenario.uptime == 7 * DAY
    btime, now = boot_and_clock(host)
    assert now - btime == pytest.approx(7 * DAY, abs=TOLERANCE)


@pytest.mark.lab
def test_a_recent_boot_gives_a_window_and_a_long_uptime_none(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    rebooted = lab_host(offset="0", daemon="running", uptime="2h")
    running = lab_host(offset="0", daemon="running")
    done = post_maint(lab, tmp_path, rebooted.name, running.name)
    assert done.returncode == 0, done.stdout + done.stderr

    step = steps_of(host_record(tmp_path, rebooted.name))["missed_jobs"]
    window = step["data"]["window"]
    assert window["source"].startswith("inferred from the boot at "), window
    boot = datetime.fromisoformat(window["end"]).timestamp() - 300  # the window ends at boot + margin
    assert boot == pytest.approx(time.time() - 2 * 3600, abs=300)

    quiet = steps_of(host_record(tmp_path, running.name))["missed_jobs"]
    assert quiet["outcome"] == "skipped"
    assert "no maintenance window given or inferred" in quiet["message"]
