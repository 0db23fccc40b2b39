"""A real cron daemon (Debian 12's) and a real pause of its VM: the job whose minute falls inside the
pause does not run at its minute; missed_jobs lists it, and it runs once in all.

What the real cron showed: when the clock is stepped forward over the job's minute (by up to 3 h),
Debian's cron runs it itself right after the step, so a ``--rerun`` by the runbook ran it twice. The
runbook now leaves such a job to the host's cron (rerun state ``by_cron``).

The pause is shorter than the lag the runbook infers a window from by itself (``MIN_LAG``, 5 min), so
the test gives the window as an operator would give the provider's; before it did, the test passed
only while the VM's boot was recent enough for the boot rule's window to reach the job's minute."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from test_post_maint import host_record, post_maint, steps_of
from vm_support import guest_offset, wait_for

from lab import Lab, LabHost

pytestmark = pytest.mark.lab
PAUSE = 75.0
LEAD = 45.0  # the pause starts this long before the job's minute: the runbook has that long to fix the
# clock before the guest's own clock reaches the minute
RAN = "/var/tmp/rb-probe.ran"
JOB = "/usr/local/bin/rb-probe"


def test_a_job_inside_a_real_suspend_is_listed_and_runs_once(
    lab: Lab, vm: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = vm("vm-chrony", offset="0")
    assert host.run("chronyc waitsync 60 0.1 0 1").returncode == 0
    offset, _ = guest_offset(host)
    due = (time.time() + offset) // 60 * 60 + 120  # a minute far enough ahead to set things up
    at = time.gmtime(due)  # the guest runs on UTC
    setup = (
        f"rm -f {RAN}; printf '%s\\n' '#!/bin/sh' 'date +%s >>{RAN}' >{JOB}; chmod 755 {JOB}; "
        f"echo '{at.tm_min} {at.tm_hour} * * * root {JOB}' >/etc/cron.d/rb-probe"
    )
    assert host.run(setup).returncode == 0
    start = due - offset - LEAD
    time.sleep(max(0.0, start - time.time()))  # waiting for a moment of the real clock, not a condition
    lab.suspend(host.name, PAUSE)
    behind, bound = guest_offset(host)
    assert behind == pytest.approx(-PAUSE, abs=3 + bound)

    window = f"{_utc_minute(start - 60)}..{_utc_minute(time.time() + 120)}"
    done = post_maint(lab, tmp_path, host.name, extra=("--rerun", "rb-probe", "--window", window))
    assert done.returncode == 0, done.stdout + done.stderr
    steps = steps_of(host_record(tmp_path, host.name))
    said = {name: (step["outcome"], step["message"]) for name, step in steps.items()}
    assert steps["restart_daemon"]["outcome"] == "changed", said
    missed = steps["missed_jobs"]["data"].get("missed", [])
    probe = [job for job in missed if job["command"] == JOB]
    assert probe and probe[0]["selected"], said
    assert probe[0]["rerun"]["state"] == "by_cron", probe[0]

    wait_for(lambda: bool(host.run(f"cat {RAN}").stdout.split()), 150, "the host's cron to run the job")
    ran = [float(stamp) for stamp in host.run(f"cat {RAN}").stdout.split()]
    assert len(ran) == 1, ran
    assert ran[0] > due + (PAUSE - LEAD) - 5, "it ran at its minute, inside the pause"


def _utc_minute(moment: float) -> str:
    """``moment`` (epoch seconds) to the minute, as ``--window`` takes it."""
    return time.strftime("%Y-%m-%dT%H:%M+00:00", time.gmtime(moment))
