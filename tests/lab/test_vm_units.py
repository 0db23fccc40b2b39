"""Pure parts of the VM lab hosts: recipes' config edits, knobs, the seed disk's config, the RTC base."""

from __future__ import annotations

import calendar
import time

import pytest

from lab import LabError
from lab.network import NTP_SERVER, PREFIX_LENGTH, host_node
from lab.profiles import get_profile
from lab.vm.images import NTP_PLACEHOLDER
from lab.vm.machine import rtc_base, seed_config
from lab.vm.profiles import one_server

DEBIAN12_NTPSEC = (
    "driftfile /var/lib/ntpsec/ntp.drift\ntos maxclock 11\ntos minclock 4 minsane 3\n"
    "pool 0.debian.pool.ntp.org iburst\npool 1.debian.pool.ntp.org iburst\n"
    "pool 2.debian.pool.ntp.org iburst\npool 3.debian.pool.ntp.org iburst\nrestrict 127.0.0.1\n"
)


def test_the_shipped_pools_become_one_server_line_and_the_rest_stays() -> None:
    assert one_server(DEBIAN12_NTPSEC) == (
        "driftfile /var/lib/ntpsec/ntp.drift\ntos maxclock 11\ntos minclock 4 minsane 3\n"
        f"server {NTP_PLACEHOLDER} iburst\nrestrict 127.0.0.1\n"
    )
    with pytest.raises(LabError, match="no pool/server line"):
        one_server("driftfile /x\n")


def test_a_vm_profile_takes_only_the_offset() -> None:
    profile = get_profile("vm-chrony")
    assert profile.scenario_for(offset="-90s").offset == -90
    assert profile.scenario_for(daemon="running").daemon == "running"  # its own state: accepted
    with pytest.raises(LabError, match="only --offset can be set, not daemon, site"):
        profile.scenario_for(daemon="stopped", site="down")
    assert get_profile("vm-ntp").scenario.daemon == "stopped"


def test_the_seed_config_holds_validated_values_only() -> None:
    text = seed_config("lab7", host_node(7), ("/etc/ntp.conf",), "ssh-ed25519 AAAAC3Nz lab key\n")
    assert text == (
        f"NAME=lab7\nADDRESS={host_node(7).address}\nPREFIX={PREFIX_LENGTH}\nNTP_SERVER={NTP_SERVER}\n"
        "NTP_CONFIGS='/etc/ntp.conf'\nAUTHORIZED_KEY='ssh-ed25519 AAAAC3Nz runbook-lab'\n"
    )


def test_the_rtc_starts_offset_from_the_real_clock_in_utc() -> None:
    now = 1_796_493_600.0
    assert rtc_base(-3 * 3600, now) == time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now - 10800))
    assert calendar.timegm(time.strptime(rtc_base(90, now), "%Y-%m-%dT%H:%M:%S")) == now + 90
