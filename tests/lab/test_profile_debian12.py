"""debian12 over real SSH: systemd detection, systemctl over the real ntpsec, ntpsec's ntpdate."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from profile_support import THREE_HOURS, clock_error
from recorded_output import assert_matches

from lab import Lab, LabHost

pytestmark = pytest.mark.lab
Factory = Callable[..., LabHost]


def test_detection_signals_of_a_broken_host(lab_host: Factory) -> None:
    host = lab_host(profile="debian12")
    done = host.run(
        "test -d /run/systemd/system && echo systemd; grep ^ID= /etc/os-release; "
        "systemctl is-active ntpsec; echo rc=$?; systemctl is-enabled ntpsec.service ntp; echo rc=$?; "
        "command -v ntpdate ntpdig ntpq; command -v chronyc || echo no-chronyc"
    )
    assert done.stdout.split("\n") == [
        "systemd",
        "ID=debian",
        "inactive",
        "rc=3",
        "enabled",
        "alias",
        "rc=0",
        "/usr/sbin/ntpdate",
        "/usr/bin/ntpdig",
        "/usr/bin/ntpq",
        "no-chronyc",
        "",
    ]
    assert clock_error(host) == pytest.approx(-THREE_HOURS, abs=2)


def test_real_ntpdate_steps_while_the_real_ntpd_runs(lab: Lab, lab_host: Factory) -> None:
    host = lab_host(profile="debian12", daemon="running")
    assert host.run("systemctl is-active ntp").stdout == "active\n"
    assert (
        "ntpd"
        in host.run("systemctl show -p MainPID --value ntpsec; ps -o comm= -p $(cat /run/ntpd.pid)").stdout
    )
    done = host.run(f"ntpdate {lab.record()['ntp_server']}")
    assert done.returncode == 0
    assert re.search(r"CLOCK: time stepped by (10799\.9|10800\.0)", done.stderr + done.stdout)
    assert clock_error(host) == pytest.approx(0, abs=2)
    assert host.run("ntpq -pn").stdout.startswith("     remote           refid")


def test_crashed_daemon_is_a_failed_unit_that_starts_again(lab_host: Factory) -> None:
    host = lab_host(profile="debian12", daemon="crashed")
    status = host.run("systemctl status ntpsec")
    assert (status.returncode, status.stdout.splitlines()[2]) == (
        3,
        "     Active: failed (Result: exit-code)",
    )
    assert host.run("systemctl is-active ntpsec").stdout == "failed\n"
    assert host.run("systemctl restart ntpsec && systemctl is-active ntpsec").stdout == "active\n"


def test_no_one_shot_tool_and_second_daemon_installed_but_disabled(lab_host: Factory) -> None:
    host = lab_host(profile="debian12", ntpdate=False, second_daemon="chronyd")
    done = host.run(
        "command -v ntpdate || echo none; systemctl is-enabled ntpsec chrony.service; "
        "systemctl is-active chrony"
    )
    assert done.stdout == "none\nenabled\ndisabled\ninactive\n"
    assert_matches(host.run("chronyc tracking"), "chronyc_tracking/debian12-506")
    started = host.run("systemctl start ntpsec; systemctl start chrony; systemctl is-active ntpsec chrony")
    assert started.stdout == "inactive\nactive\n", "chrony.service Conflicts= ntpsec.service"
