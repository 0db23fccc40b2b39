"""alpine over real SSH: OpenRC stand-ins over the real chronyd -x, BusyBox-style date, no bash."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from profile_support import THREE_HOURS, clock_error
from test_post_maint import host_record, post_maint, steps_of

from lab import Lab, LabHost

pytestmark = pytest.mark.lab
Factory = Callable[..., LabHost]


def test_detection_signals(lab_host: Factory) -> None:
    host = lab_host(profile="alpine")
    done = host.run(
        "cat /etc/alpine-release; test -d /run/systemd/system || echo no-systemd; "
        "for c in rc-service rc-update systemctl service bash timedatectl ntpdate; do "
        "command -v $c >/dev/null && echo has-$c; done; rc-service chronyd status; echo rc=$?; "
        "rc-update show default"
    )
    assert done.stdout == (
        "3.20.3\nno-systemd\nhas-rc-service\nhas-rc-update\n * status: stopped\nrc=3\n"
        "             apache2 | default\n             chronyd | default\n"
    )
    assert clock_error(host) == pytest.approx(-THREE_HOURS, abs=2)


def test_busybox_date_has_no_nanoseconds_and_no_epochrealtime(lab_host: Factory) -> None:
    host = lab_host(profile="alpine", offset="0")
    out = host.run('date +%s.%N; echo "${EPOCHREALTIME:-unset}"; date -u +%Y').stdout.split("\n")
    assert out[0].endswith(".%N") and out[0][:-3].isdigit()
    assert out[1] == "unset" and len(out[2]) == 4


def test_start_then_makestep_fixes_the_clock(lab_host: Factory) -> None:
    host = lab_host(profile="alpine")
    started = host.run("rc-service chronyd start; echo rc=$?; rc-service chronyd status")
    assert started.stdout == " * Starting chronyd ... [ ok ]\nrc=0\n * status: started\n"
    assert host.run("chronyc burst 4/4 && chronyc makestep").stdout == "200 OK\n200 OK\n"
    assert clock_error(host) == pytest.approx(0, abs=2)


def test_one_line_per_action_unless_on_a_terminal(lab_host: Factory) -> None:
    """libeinfo's ebegin ends its line only on a terminal; without one eend finishes it (OpenRC's
    src/libeinfo/libeinfo.c); warnings go to stderr."""
    host = lab_host(profile="alpine", daemon="running")
    piped = host.run("rc-service chronyd restart; rc-service chronyd stop; rc-service chronyd stop")
    assert piped.stdout == " * Stopping chronyd ... [ ok ]\n * Starting chronyd ... [ ok ]\n" + (
        " * Stopping chronyd ... [ ok ]\n"
    )
    assert piped.stderr == " * WARNING: chronyd is already stopped\n"
    on_terminal = host.run("script -qec 'rc-service chronyd start' /dev/null")
    assert on_terminal.stdout == " * Starting chronyd ...\n [ ok ]\n"


def test_crashed_service_needs_restart_or_zap(lab_host: Factory) -> None:
    host = lab_host(profile="alpine", daemon="crashed")
    status = host.run("rc-service chronyd status")
    assert (status.returncode, status.stdout, status.stderr) == (32, "", " * status: crashed\n")
    again = host.run("rc-service chronyd start")
    assert (again.returncode, again.stdout, again.stderr) == (
        0,
        "",
        " * WARNING: chronyd has already been started\n",
    )
    assert (
        host.run(
            "rc-service chronyd zap >/dev/null; rc-service chronyd start >/dev/null; "
            "rc-service chronyd status"
        ).stdout
        == " * status: started\n"
    )


def test_a_date_without_nanoseconds_is_timed_at_the_edge_of_the_second(
    lab: Lab, lab_host: Factory, tmp_path: Path
) -> None:
    """BusyBox built without nanoseconds prints ``1700000000.``: check_date times the edge of the
    host's second instead of taking whole seconds at ±0.5 s."""
    host = lab_host(profile="alpine", offset="+90s")
    assert host.run("touch /etc/runbook-lab/date-no-nanoseconds").returncode == 0
    reading = host.run("date +%s.%N").stdout.strip()
    assert reading.endswith(".") and reading[:-1].isdigit()

    done = post_maint(lab, tmp_path, host.name, extra=("--dry-run",))
    assert done.returncode == 0, done.stdout + done.stderr
    data = steps_of(host_record(tmp_path, host.name))["check_date"]["data"]
    assert data["method"] == "date (whole seconds, timed at the edge of the second)"
    assert data["offset"] == pytest.approx(-90, abs=0.2)
    assert data["bound"] < 0.1
