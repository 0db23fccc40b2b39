"""ubuntu over real SSH: systemd-timesyncd behaviour through the timedatectl/timesyncd/systemctl stand-ins."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from profile_support import THREE_HOURS, clock_error, wait_for_output

from lab import LabHost

pytestmark = pytest.mark.lab
Factory = Callable[..., LabHost]
SHOW_KEYS = ["Timezone", "LocalRTC", "CanNTP", "NTP", "NTPSynchronized", "TimeUSec", "RTCTimeUSec"]


def show(host: LabHost) -> dict[str, str]:
    return dict(line.split("=", 1) for line in host.run("timedatectl show", check=True).stdout.splitlines())


def test_broken_host_detection(lab_host: Factory) -> None:
    host = lab_host(profile="ubuntu")
    values = show(host)
    assert list(values) == SHOW_KEYS
    assert (values["CanNTP"], values["NTP"], values["NTPSynchronized"]) == ("yes", "no", "no")
    assert host.run("grep ^VERSION_ID /etc/os-release; systemctl is-active systemd-timesyncd").stdout == (
        'VERSION_ID="24.04"\ninactive\n'
    )
    assert host.run("timedatectl show-timesync").returncode == 1
    assert clock_error(host) == pytest.approx(-THREE_HOURS, abs=2)


def test_set_ntp_true_synchronises_within_a_bounded_wait(lab_host: Factory) -> None:
    host = lab_host(profile="ubuntu")
    assert host.run("timedatectl set-ntp true").returncode == 0
    out = wait_for_output(host, "timedatectl show -p NTPSynchronized --value", "yes", timeout=10)
    assert out == "yes\n"
    assert clock_error(host) == pytest.approx(0, abs=2)
    timesync = dict(line.split("=", 1) for line in host.run("timedatectl show-timesync").stdout.splitlines())
    assert timesync["ServerAddress"] == timesync["ServerName"] != ""
    assert (
        host.run(
            "systemctl is-enabled systemd-timesyncd; timedatectl set-ntp false; "
            "timedatectl show -p NTP --value"
        ).stdout
        == "enabled\nno\n"
    )


def test_running_daemon_that_slept_through_the_suspension(lab_host: Factory) -> None:
    host = lab_host(profile="ubuntu", daemon="running")
    values = show(host)
    assert (values["NTP"], values["NTPSynchronized"]) == ("yes", "yes")
    assert clock_error(host) == pytest.approx(-THREE_HOURS, abs=2)
    host.run("systemctl restart systemd-timesyncd", check=True)
    wait_for_output(host, "date +%s", "", timeout=0)
    assert wait_for_output(host, "timedatectl show -p NTPSynchronized --value", "yes") == "yes\n"
    assert clock_error(host) == pytest.approx(0, abs=2)
