"""The lab as a whole: files it writes, re-up, many hosts at once, a clean teardown, the real clock."""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ntplib
import pytest
import yaml
from invoke.config import Config
from invoke.context import Context

from lab import Lab, network
from lab.errors import LabError
from lab.lab import OWNER_FILE
from lab.network import BRIDGE, NTP_SERVER
from lab.processes import kill_namespaces, pids_by_netns
from runbook.session import settings_for

pytestmark = pytest.mark.lab


def lab_pids(lab: Lab) -> dict[str, list[int]]:
    """Processes per host namespace, found through /proc."""
    inodes = {host.name: Path("/run/netns", host.namespace).stat().st_ino for host in lab.hosts()}
    found = pids_by_netns(inodes.values())
    return {name: sorted(found[inode]) for name, inode in inodes.items()}


def test_ssh_config_pins_the_real_host_keys(lab: Lab) -> None:
    config = lab.layout.ssh_config.read_text()
    assert "StrictHostKeyChecking yes" in config
    assert f"UserKnownHostsFile {lab.layout.known_hosts}" in config
    host = lab.hosts()[0]
    scanned = subprocess.run(
        ["ssh-keyscan", "-t", "ed25519", host.address], capture_output=True, text=True, check=True
    ).stdout.split()
    known = lab.layout.known_hosts.read_text().splitlines()[0].split()
    assert known[0] == f"{host.name},{host.address}"
    assert known[1:] == scanned[1:3]


def test_lab_json_describes_hosts_and_profiles(lab: Lab) -> None:
    record = json.loads(lab.layout.lab_json.read_text())
    assert record["ntp_server"] == NTP_SERVER
    assert record["sudo_user"] == "admin"
    assert record["sudo_password"]
    names = [host["name"] for host in record["hosts"]]
    assert names == [f"lab{index}" for index in range(1, len(names) + 1)]
    first = record["hosts"][0]
    assert set(first) == {"name", "address", "profile", "user", "namespace", "scenario"}
    assert set(record["profiles"]["centos6"]) >= {
        "backup_command",
        "evidence_file",
        "check_command",
        "max_age",
    }
    assert record["profiles"]["centos6"]["site_url"] == "http://{address}/"


def test_runbook_yaml_gives_the_runbook_its_settings(lab: Lab) -> None:
    assert yaml.safe_load(lab.layout.runbook_yaml.read_text())["runbook"]["ntp_servers"] == [NTP_SERVER]
    config = Config(runtime_path=lab.layout.runbook_yaml)
    config.load_runtime()
    settings = settings_for(Context(config=config))
    assert settings.ntp.servers == (NTP_SERVER,)
    assert settings.ssh.config == str(lab.layout.ssh_config)
    assert settings.backup is not None
    assert settings.backup.check_command == "/usr/local/bin/backup-check 93600"
    assert settings.site.urls == ("http://{address}/",)


def test_controller_reaches_the_lab_ntp_server(lab: Lab) -> None:
    answer = ntplib.NTPClient().request(NTP_SERVER, version=4, timeout=2)
    assert answer.stratum == 2
    assert abs(answer.offset) < 0.5


def test_re_up_keeps_running_hosts_and_adds_new_ones(lab: Lab) -> None:
    before = lab_pids(lab)
    size = len(before)
    try:
        hosts = lab.up(hosts=size + 1)
        assert [host.name for host in hosts][-1] == f"lab{size + 1}"
        after = lab_pids(lab)
        assert {name: after[name] for name in before} == before
        assert hosts[-1].run("hostname", check=True).stdout.strip() == f"lab{size + 1}"
        assert lab.up(hosts=1) == hosts
    finally:
        lab.down()
        lab.up(hosts=size)


def test_hosts_answer_in_parallel(lab: Lab) -> None:
    hosts = lab.hosts()
    assert len(hosts) >= 5
    with ThreadPoolExecutor(len(hosts)) as pool:
        names = list(pool.map(lambda host: host.run("hostname", check=True).stdout.strip(), hosts))
    assert names == [host.name for host in hosts]


def test_status_reports_every_host(lab: Lab) -> None:
    state = lab.status()
    assert state.ntp_answers
    assert [item.host.name for item in state.hosts] == [host.name for host in lab.hosts()]
    assert all(item.ssh and item.processes > 0 for item in state.hosts)


def test_down_leaves_nothing_behind(lab: Lab) -> None:
    size = len(lab.hosts())
    lab.down()
    try:
        namespaces = subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True, check=True
        ).stdout
        assert network.NAMESPACE_PREFIX not in namespaces
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
        assert f"{BRIDGE}:" not in links
        assert not network.lab_veths()
        assert str(lab.layout.root) not in Path("/proc/self/mountinfo").read_text()
        assert not lab.layout.root.exists()
        assert not OWNER_FILE.exists()
        root = str(lab.layout.root)
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                mounts = (proc / "mountinfo").read_text()
            except OSError:
                continue
            assert root not in command + mounts, f"left behind: {proc.name} {command}"
    finally:
        lab.up(hosts=size)


def test_a_live_lab_of_another_directory_is_not_taken_over(lab: Lab, tmp_path: Path) -> None:
    with pytest.raises(LabError, match=f"another lab is up at {lab.layout.root}: run `invoke lab.down"):
        Lab(tmp_path / ".lab").up(hosts=1, wait=0)
    assert lab.status().ntp_answers


def test_a_lab_killed_before_it_went_down_does_not_block_the_next(lab: Lab, tmp_path: Path) -> None:
    size = len(lab.hosts())
    lab.down()
    dead = Lab(tmp_path / ".lab")
    try:
        dead.up(hosts=size + 1)
        kill_namespaces(network.existing_namespaces())  # its session was SIGKILLed: nothing runs
        assert OWNER_FILE.read_text().strip() == str(dead.layout.root)
        hosts = lab.up(hosts=size, wait=0)
        assert OWNER_FILE.read_text().strip() == str(lab.layout.root)
        assert network.host_node(size + 1).namespace not in network.existing_namespaces()
        assert hosts[0].run("hostname", check=True).stdout.strip() == "lab1"
    finally:
        dead.down()
        lab.up(hosts=size)


def test_real_clock_unchanged_by_a_full_lab_run(lab: Lab) -> None:
    wall, mono = time.time(), time.monotonic()
    reference = ntplib.NTPClient().request(NTP_SERVER, version=4, timeout=2).offset
    host = lab.reset("lab1", daemon="running")
    for command in (
        f"ntpdate {NTP_SERVER}",
        "service ntpd stop",
        f"ntpdate -b {NTP_SERVER}",
        "date -s '1999-12-31 23:59:59'",
        "service ntpd start",
        "ntpd -gq",
        "hwclock --systohc",
        "python3 -c 'import time; time.clock_settime(time.CLOCK_REALTIME, 0)'",
    ):
        host.run(command, timeout=60)
    assert lab.clock_offset(host.name) < -20 * 365 * 86400
    drift = (time.time() - wall) - (time.monotonic() - mono)
    assert abs(drift) < 0.5
    after = ntplib.NTPClient().request(NTP_SERVER, version=4, timeout=2).offset
    assert abs(after - reference) < 0.5
