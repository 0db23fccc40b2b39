"""The hwclock and systemctl stand-ins' formats and exit codes, on lab hosts over real SSH, compared with
the real tools' outputs recorded on a Debian 12 VM host (tests/cases/hwclock, tests/cases/systemctl)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from recorded_output import assert_matches, recorded

from lab import LabHost

pytestmark = pytest.mark.lab
Factory = Callable[..., LabHost]
NO_RTC = (
    "hwclock: Cannot access the Hardware Clock via any known method.\n"
    "hwclock: Use the --verbose option to see the details of our search for an access method.\n"
)


def test_hwclock_keeps_its_own_time_until_systohc(lab_host: Factory) -> None:
    host = lab_host(profile="el9")
    assert_matches(host.run("hwclock --show"), "hwclock/show")
    host.run("chronyd -q", check=True)
    year_hour = "+%Y-%m-%d %H"
    system = host.run(f"date '{year_hour}'").stdout.strip()
    assert not host.run("hwclock -r").stdout.startswith(system), "the RTC stays 3 h behind after a step"
    assert host.run("hwclock --systohc").returncode == 0
    assert host.run("hwclock -r").stdout.startswith(system)


def test_host_without_rtc(lab_host: Factory) -> None:
    host = lab_host(profile="ubuntu", rtc=False)
    for command in ("hwclock --systohc", "hwclock --show"):
        done = host.run(command)
        assert (done.returncode, done.stdout, done.stderr) == (1, "", NO_RTC)
    assert host.run("timedatectl show -p RTCTimeUSec --value").stdout == "n/a\n"


def test_systemctl_unknown_units_and_show(lab_host: Factory) -> None:
    host = lab_host(profile="debian12")
    for case in (
        "status-unknown",
        "start-unknown",
        "stop-unknown",
        "is-enabled-unknown",
        "enable-unknown",
        "is-active-unknown",
        "show-loadstate-unknown",
    ):
        assert_matches(host.run(recorded(f"systemctl/{case}").command), f"systemctl/{case}")
    assert host.run("systemctl show -p ActiveState -p UnitFileState ntpsec").stdout == (
        "ActiveState=inactive\nUnitFileState=enabled\n"
    )
    assert host.run("systemctl show -p LoadState --value nope").stdout == "not-found\n"
    enabled = host.run(
        "systemctl disable ntpsec; systemctl is-enabled ntpsec; systemctl is-active ntp; "
        "systemctl enable --now ntpsec; systemctl is-active ntp"
    )
    assert enabled.stdout == "disabled\ninactive\nactive\n"
    assert 'Removed "/etc/systemd/system/ntp.service".' in enabled.stderr
    assert "Created symlink /etc/systemd/system/multi-user.target.wants/ntpsec.service" in enabled.stderr
