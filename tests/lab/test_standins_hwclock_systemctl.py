"""The hwclock and systemctl stand-ins' formats and exit codes, on lab hosts over real SSH."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from lab import LabHost

pytestmark = pytest.mark.lab
Factory = Callable[..., LabHost]
NO_RTC = (
    "hwclock: Cannot access the Hardware Clock via any known method.\n"
    "hwclock: Use the --verbose option to see the details of our search for an access method.\n"
)


def test_hwclock_keeps_its_own_time_until_systohc(lab_host: Factory) -> None:
    host = lab_host(profile="el9")
    shown = host.run("hwclock --show", check=True).stdout
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d\n", shown)
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
    expected = {
        "systemctl status nope": (4, "Unit nope.service could not be found.\n"),
        "systemctl start nope": (5, "Failed to start nope.service: Unit nope.service not found.\n"),
        "systemctl stop nope": (5, "Failed to stop nope.service: Unit nope.service not loaded.\n"),
        "systemctl is-enabled nope": (
            1,
            "Failed to get unit file state for nope.service: No such file or directory\n",
        ),
        "systemctl enable nope": (1, "Failed to enable unit: Unit file nope.service does not exist.\n"),
    }
    for command, (rc, err) in expected.items():
        done = host.run(command)
        assert (done.returncode, done.stderr) == (rc, err), command
    assert host.run("systemctl is-active nope").stdout == "inactive\n"
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
