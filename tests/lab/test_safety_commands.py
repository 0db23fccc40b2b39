"""Commands over real OpenSSH (issue 12, items 4, 7, 8 and root jobs without sudo): sudo's prompt
answered once and only to sudo, timeouts that end every process on GNU and BusyBox hosts, output
kept within a limit."""

from __future__ import annotations

import shlex
import time
import tracemalloc
from collections.abc import Callable

import pytest

from lab import Lab, LabHost
from runbook import clock
from runbook.commands import StepRecorder
from runbook.connect import connect
from runbook.cron import rerun_command
from runbook.cron.entries import CronEntry, EntryKind
from runbook.errors import SudoRefused
from runbook.output import HEAD, TAIL

pytestmark = pytest.mark.lab


def running(host: LabHost, pattern: str) -> bool:
    """Whether a process whose command line has ``pattern`` runs (the shell running pgrep aside)."""
    return host.run(f"pgrep -f {shlex.quote(pattern[:-1] + '[' + pattern[-1] + ']')}").returncode == 0


def gone_by(host: LabHost, patterns: tuple[str, ...], deadline: float) -> None:
    """Wait until no process matches ``patterns`` (signals take a moment to land)."""
    while any(running(host, pattern) for pattern in patterns):
        assert time.monotonic() < deadline, f"still running on {host.name}: {patterns}"
        time.sleep(0.1)


# -- item 4: sudo ---------------------------------------------------------------------------------


def test_a_command_that_prints_a_sudo_prompt_never_gets_the_password(
    lab: Lab, lab_host: Callable[..., LabHost]
) -> None:
    host = lab_host(user="sudo")
    password = lab.record()["sudo_password"]
    c = connect(host.name, ssh_config=str(lab.layout.ssh_config))
    rec = StepRecorder("x")
    lure = "printf '[sudo] password: ' >&2; printf 'Password: '; read x; echo \"got:$x:$(id -u)\""
    record = rec.run(c, lure, parse=False, timeout=30, sudo_password=password)
    assert record.exit_code == 0, record
    assert record.stdout.endswith("got::0\n")  # ran as root, read nothing
    assert password not in record.stdout + record.stderr
    assert "@@runbook:sudo-ok" not in record.stderr
    c.close()


def test_nopasswd_sudo_works_without_a_password(lab: Lab, lab_host: Callable[..., LabHost]) -> None:
    host = lab_host(user="sudo")
    password = lab.record()["sudo_password"]
    rule = "admin ALL=(ALL) NOPASSWD: ALL"
    allow = (
        f"echo {shlex.quote(password)} | sudo -S -p '' sh -c \"echo '{rule}' > /etc/sudoers.d/zz-nopasswd\""
    )
    assert host.run(allow).returncode == 0
    c = connect(host.name, ssh_config=str(lab.layout.ssh_config))
    record = StepRecorder("x").run(c, "id -u", timeout=30, sudo_password=None)
    assert (record.exit_code, record.stdout) == (0, "0\n"), record
    c.close()


def test_a_root_job_is_not_rerun_as_the_login_user_without_sudo(
    lab: Lab, lab_host: Callable[..., LabHost]
) -> None:
    host = lab_host(user="sudo")
    job = CronEntry(
        source="/etc/crontab",
        line=9,
        user="root",
        schedule="0 3 * * *",
        command="id -un > /tmp/root-job-ran",
        kind=EntryKind.CRON,
        tz="UTC",
    )
    c = connect(host.name, ssh_config=str(lab.layout.ssh_config))
    rec = StepRecorder("missed_jobs")
    with pytest.raises(
        SudoRefused, match=r"sudo on .* needs a password for admin \(sudo -n\): the command was not run"
    ):
        rec.run(c, rerun_command(job, timeout=30), timeout=60, parse=False, sudo_password=None)
    assert rec.commands[-1].note == "sudo did not run the command"
    assert host.run("test -e /tmp/root-job-ran").returncode == 1
    c.close()


# -- item 7: timeouts -------------------------------------------------------------------------------


BUSYBOX_TIMEOUT_ONLY = (
    "mv /usr/bin/setsid /usr/bin/setsid.hidden && ln -sf /bin/busybox /usr/local/bin/timeout",
    "mv /usr/bin/setsid.hidden /usr/bin/setsid; rm -f /usr/local/bin/timeout",
)


@pytest.mark.parametrize("profile", ["centos6", "alpine"])
def test_a_timed_out_command_leaves_no_process_behind(
    lab: Lab, lab_host: Callable[..., LabHost], profile: str
) -> None:
    """centos6: setsid (the watchdog). alpine: setsid hidden and BusyBox's ``timeout`` first in
    PATH (the profile's /usr/bin/timeout is GNU's), the case where a job's child kept running."""
    host = lab_host(profile=profile)
    if profile == "alpine":
        host.run(BUSYBOX_TIMEOUT_ONLY[0], check=True)
    try:
        if profile == "alpine":
            assert "BusyBox" in host.run("command -v setsid; timeout --help 2>&1").stdout
        c = connect(host.name, ssh_config=str(lab.layout.ssh_config))
        started = time.monotonic()
        record = StepRecorder("x").run(c, "sleep 1234 & sleep 4321; echo done", timeout=2, parse=False)
        assert time.monotonic() - started < 8
        assert record.exit_code is None, record
        assert record.note.startswith("timed out after 2 s; ended on the host"), record
        gone_by(host, ("sleep 1234", "sleep 4321"), deadline=time.monotonic() + 5)
        c.close()
    finally:
        if profile == "alpine":
            host.run(BUSYBOX_TIMEOUT_ONLY[1], check=True)


def test_the_probe_session_has_a_host_side_limit(lab: Lab, lab_host: Callable[..., LabHost]) -> None:
    host = lab_host()
    c = connect(host.name, ssh_config=str(lab.layout.ssh_config))
    started = time.monotonic()
    record, method, _ = clock.sample_session(c, "sleep 2345 & sleep 5432", 3, 2.0)
    assert record.note == "timed out after 2 s"
    assert time.monotonic() - started < 12 and method == ""
    gone_by(host, ("sleep 2345", "sleep 5432"), deadline=time.monotonic() + 10)  # the host acts alone
    c.close()


# -- item 8: output ---------------------------------------------------------------------------------


def test_output_is_kept_within_the_limit(lab: Lab, lab_host: Callable[..., LabHost]) -> None:
    host = lab_host()
    c = connect(host.name, ssh_config=str(lab.layout.ssh_config))
    size = 40_000_000
    tracemalloc.start()
    record = StepRecorder("x").run(
        c, f"yes runbook | head -c {size}; echo; echo last-line", timeout=120, parse=False
    )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert record.exit_code == 0
    assert len(record.stdout) < HEAD + TAIL + 200 and record.stdout.endswith("last-line\n")
    assert record.stdout.startswith("runbook\nrunbook\n")
    dropped = size + len("\nlast-line\n") - HEAD - TAIL
    middle = record.stdout[HEAD - 5 : HEAD + 80]
    assert f"[… runbook dropped {dropped:,} characters of output here …]" in record.stdout, middle
    assert peak < 16_000_000, peak  # not the 40 MB printed
    c.close()
