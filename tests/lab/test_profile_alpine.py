"""alpine over real SSH: OpenRC stand-ins over the real chronyd -x, BusyBox-style date, no bash."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from profile_support import THREE_HOURS, clock_error

from lab import LabHost

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
    assert started.stdout == " * Starting chronyd ...\n [ ok ]\nrc=0\n * status: started\n"
    assert host.run("chronyc burst 4/4 && chronyc makestep").stdout == "200 OK\n200 OK\n"
    assert clock_error(host) == pytest.approx(0, abs=2)


def test_crashed_service_needs_restart_or_zap(lab_host: Factory) -> None:
    host = lab_host(profile="alpine", daemon="crashed")
    status = host.run("rc-service chronyd status")
    assert (status.returncode, status.stdout) == (32, " * status: crashed\n")
    again = host.run("rc-service chronyd start")
    assert (again.returncode, again.stdout) == (0, " * WARNING: chronyd has already been started\n")
    assert (
        host.run(
            "rc-service chronyd zap >/dev/null; rc-service chronyd start >/dev/null; "
            "rc-service chronyd status"
        ).stdout
        == " * status: started\n"
    )
