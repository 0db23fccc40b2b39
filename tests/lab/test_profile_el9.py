"""el9 over real SSH: systemctl + real chronyd -x, chronyc and chronyd -q stand-ins, a second daemon."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from profile_support import clock_error
from recorded_output import assert_matches

from lab import LabHost

pytestmark = pytest.mark.lab
Factory = Callable[..., LabHost]
TRACKING_FIELDS = [
    "Reference ID",
    "Stratum",
    "Ref time (UTC)",
    "System time",
    "Last offset",
    "RMS offset",
    "Frequency",
    "Residual freq",
    "Skew",
    "Root delay",
    "Root dispersion",
    "Update interval",
    "Leap status",
]


def fields(text: str) -> dict[str, str]:
    return {line[:16].rstrip(): line[18:] for line in text.splitlines()}


def test_detection_and_daemon_down(lab_host: Factory) -> None:
    host = lab_host(profile="el9")
    done = host.run(
        "cat /etc/redhat-release; test -d /run/systemd/system && echo systemd; systemctl is-active chronyd; "
        "systemctl is-enabled chronyd; grep ^makestep /etc/chrony.conf; "
        "command -v ntpdate || echo no-ntpdate; command -v service || echo no-service"
    )
    assert done.stdout == (
        "Rocky Linux release 9.4 (Blue Onyx)\nsystemd\ninactive\nenabled\nmakestep 1 3\n"
        "no-ntpdate\nno-service\n"
    )
    assert_matches(host.run("chronyc -n tracking"), "chronyc_tracking/debian12-506")
    assert_matches(host.run("chronyc makestep"), "chronyc_reply/debian12-makestep-506")


def test_chronyd_q_steps_the_clock_when_the_daemon_is_down(lab_host: Factory) -> None:
    host = lab_host(profile="el9")
    done = host.run("chronyd -q")
    assert done.returncode == 0
    wrong = re.search(r"System clock wrong by (-?\d+\.\d+) seconds \(step\)", done.stderr)
    assert wrong, done.stderr
    assert float(wrong[1]) == pytest.approx(10800, abs=2)
    assert clock_error(host) == pytest.approx(0, abs=2)


def test_tracking_then_makestep_and_waitsync(lab_host: Factory) -> None:
    host = lab_host(profile="el9")
    start = host.run("systemctl start chronyd; systemctl is-active chronyd; chronyc -n tracking")
    assert start.stdout.startswith("active\n")
    first = fields(start.stdout.split("\n", 1)[1])
    assert list(first) == TRACKING_FIELDS
    assert first["Leap status"] == "Not synchronised"
    assert host.run("chronyc burst 4/4").stdout == "200 OK\n"
    synced = fields(host.run("chronyc -n tracking").stdout)
    assert synced["Leap status"] == "Normal"
    assert synced["System time"].startswith("10799.") or synced["System time"].startswith("10800.")
    assert synced["System time"].endswith("seconds slow of NTP time")
    failing = host.run("chronyc waitsync 2 0.1 0 0.1")
    assert failing.returncode == 1
    assert failing.stdout.splitlines()[0].startswith("try: 1, refid: ")
    assert host.run("chronyc makestep").stdout == "200 OK\n"
    assert clock_error(host) == pytest.approx(0, abs=2)
    ok = host.run("chronyc waitsync 3 0.1")
    assert ok.returncode == 0 and ok.stdout.startswith("try: 1, refid: ")


def test_makestep_applies_only_what_chronyd_has_measured(lab_host: Factory) -> None:
    """chrony's makestep cancels the correction chronyd is slewing (LCL_MakeStep) and asks no server: a
    clock moved after the last measurement, as by a pause, stays wrong until chronyd measures again (on
    vm-chrony, makestep right after a 20 s pause: 'System clock was stepped by 0.000000 seconds')."""
    host = lab_host(profile="el9", offset="0")
    assert host.run("systemctl start chronyd && chronyc burst 4/4").returncode == 0
    assert host.run("date -s @$(( $(date +%s) - 60 ))").returncode == 0
    assert_matches(host.run("chronyc makestep"), "chronyc_reply/debian12-makestep-ok")
    assert clock_error(host) == pytest.approx(-60, abs=2)
    assert host.run("chronyc burst 4/4 && chronyc makestep").stdout == "200 OK\n200 OK\n"
    assert clock_error(host) == pytest.approx(0, abs=2)


def test_running_daemon_and_ntpd_installed_but_disabled(lab_host: Factory) -> None:
    host = lab_host(profile="el9", daemon="running", second_daemon="ntpd")
    done = host.run("systemctl is-active chronyd ntpd; systemctl is-enabled chronyd ntpd; command -v ntpd")
    assert done.stdout == "active\ninactive\nenabled\ndisabled\n/usr/sbin/ntpd\n"
    assert host.run("systemctl start ntpd; systemctl is-active chronyd ntpd").stdout == "inactive\nactive\n"
