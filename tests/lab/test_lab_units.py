"""Pure parts of the lab: scenario knobs, addressing, profile seeds, the YAML writer (no root needed)."""

from __future__ import annotations

import time

import pytest
import yaml

from lab import LabError, Scenario
from lab.clientfiles import yaml_text
from lab.network import MAX_HOSTS, host_node, ntp_node
from lab.profiles import get_profile


def test_scenario_knobs_parse_durations_and_reject_unknown_values() -> None:
    assert Scenario().with_knobs(offset="+40y").offset == 40 * 365.25 * 86400
    assert Scenario().with_knobs(offset="0").offset == 0
    assert Scenario().with_knobs(offset=-90).offset == -90
    for knobs in (
        {"daemon": "sleeping"},
        {"site": "maybe"},
        {"user": "bob"},
        {"colour": "red"},
        {"offset": "soon"},
    ):
        with pytest.raises(LabError):
            Scenario().with_knobs(**knobs)
    scenario = Scenario(daemon="crashed", ntpdate=False, site="down", user="sudo")
    assert Scenario.from_dict(scenario.to_dict()) == scenario


def test_nodes_have_distinct_fixed_addresses_and_macs() -> None:
    nodes = [ntp_node()] + [host_node(index) for index in range(1, MAX_HOSTS + 1)]
    for attribute in ("address", "namespace", "veth", "inner_mac", "bridge_mac"):
        assert len({getattr(node, attribute) for node in nodes}) == len(nodes)
    assert host_node(7) == host_node(7)
    assert all(len(node.veth) <= 15 for node in nodes)
    with pytest.raises(LabError):
        host_node(MAX_HOSTS + 1)


def test_centos6_start_script_follows_the_scenario() -> None:
    profile = get_profile("centos6")
    assert profile.start_script(Scenario()) == "service httpd start\n"
    script = profile.start_script(Scenario(daemon="crashed", ntpdate=False, site="down"))
    assert "rm -f /usr/sbin/ntpdate" in script
    assert "/var/run/ntpd.pid" in script
    assert "httpd" not in script
    assert "service ntpd start" in profile.start_script(Scenario(daemon="running"))


def test_centos6_backup_was_scheduled_in_the_window_and_last_ran_a_day_before() -> None:
    now = time.time()
    seeds = get_profile("centos6").seed_files(Scenario(), now)
    minute, hour = seeds["etc/cron.d/backup"].splitlines()[1].split()[:2]
    local = time.localtime(now)
    ago = (local.tm_hour * 60 + local.tm_min - int(hour) * 60 - int(minute)) % 1440
    assert 0 < ago < 180
    last = int(seeds["var/lib/backup/last-success"])
    assert 26 * 3600 < now - last < 28 * 3600


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(LabError, match="centos6"):
        get_profile("solaris")


def test_yaml_text_round_trips() -> None:
    data = {
        "runbook": {"ntp_servers": ["10.200.0.2"], "backup": {"max_age": 93600.0, "command": "a 'b' \"c\""}}
    }
    assert yaml.safe_load(yaml_text(data)) == data
