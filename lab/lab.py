"""The lab: bring hosts up, reset them into a scenario, report their state, take everything down."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab import network
from lab.clientfiles import write_client_files
from lab.errors import LabError
from lab.faketime import read_clock_offset
from lab.host import LabHost
from lab.hostproc import clock_file, host_key, prepare_host, ssh_banner, start_host, wait_for_banners
from lab.keys import ensure_keys, public_key
from lab.layout import LabLayout, cache_dir
from lab.ntpserver import ntp_answers, start_ntp_server
from lab.processes import kill_namespaces, netns_inode, pids_by_netns
from lab.profiles import get_profile
from lab.scenario import Scenario
from lab.setup import check_prerequisites
from lab.template import SUDO_USER, ensure_template, sudo_password
from lab.vm.images import ensure_image
from lab.vm.machine import console_log, prepare_vm, qmp_socket, release_vm_network, start_vm, wire_vm_network
from lab.vm.qmp import suspend
from lab.waiting import wait_until

OWNER_FILE = Path(f"/run/runbook-lab{network.INSTANCE or ''}.owner")
LAB_NAMESPACE = re.compile(rf"^{network.NAMESPACE_PREFIX}(ntp|lab\d+)$")
BANNER_TIMEOUT = 30.0
VM_BANNER_TIMEOUT = 120.0  # TCG on a busy 2-core machine: ~16-25 s when idle


@dataclass(frozen=True)
class HostState:
    """A host as ``status`` finds it."""

    host: LabHost
    processes: int
    ssh: bool
    clock_offset: float | None


@dataclass(frozen=True)
class LabStatus:
    ntp_server: str
    ntp_answers: bool
    hosts: list[HostState]


class Lab:
    """Lab hosts on this machine, described by the files under ``root`` (``.lab`` by default).

    One lab per instance runs at a time (``$RUNBOOK_LAB_INSTANCE``, default 0: bridge labbr0,
    10.200.0.0/24); another instance gets its own bridge, subnet and namespaces.
    """

    def __init__(self, root: Path = Path(".lab"), cache: Path | None = None) -> None:
        self.layout = LabLayout.at(root)
        self.cache = cache if cache is not None else cache_dir()
        self._children: list[subprocess.Popen[bytes]] = []

    # -- reading ---------------------------------------------------------------------------

    def hosts(self) -> list[LabHost]:
        """The hosts recorded in lab.json (empty when the lab is down)."""
        if not self.layout.lab_json.is_file():
            return []
        record = json.loads(self.layout.lab_json.read_text())
        return [LabHost.from_dict(item, self.layout.ssh_config) for item in record["hosts"]]

    def host(self, name: str) -> LabHost:
        for host in self.hosts():
            if host.name == name:
                return host
        raise LabError(f"no lab host {name!r} in {self.layout.lab_json}")

    def clock_offset(self, name: str) -> float:
        """The host's fake clock offset from the real clock in seconds (negative = behind)."""
        return read_clock_offset(clock_file(self.layout.host_dir(self.host(name).name)))

    def record(self) -> dict[str, Any]:
        """The parsed lab.json."""
        data: dict[str, Any] = json.loads(self.layout.lab_json.read_text())
        return data

    # -- changing --------------------------------------------------------------------------

    def up(self, profile: str = "centos6", hosts: int = 1, wait: float = 0.0, **knobs: Any) -> list[LabHost]:
        """Make ``hosts`` hosts run: keep running ones, restart dead ones, add new ones of ``profile``.

        ``knobs`` (see Scenario: offset, daemon, ntpdate, site, user) apply to the hosts added now.
        When another lab directory's lab is up, wait up to ``wait`` seconds for it to go down.
        """
        check_prerequisites()
        if not 1 <= hosts <= network.MAX_HOSTS:
            raise LabError(f"--hosts must be 1..{network.MAX_HOSTS}, not {hosts}")
        scenario = get_profile(profile).scenario_for(**knobs)
        self._claim(wait)
        known = self.hosts()
        added = [self._new_host(index, profile, scenario) for index in range(len(known) + 1, hosts + 1)]
        everyone = known + added
        self.layout.root.mkdir(parents=True, exist_ok=True)
        network.ensure_bridge()
        self._ensure_ntp_server()
        dead = [host for host in everyone if not self._running(host)]
        self._start(dead)
        self._write_client_files(everyone)
        return everyone

    def reset(self, name: str, profile: str | None = None, **knobs: Any) -> LabHost:
        """Restart one host fresh as ``profile`` (default: its own) in its default scenario + ``knobs``."""
        profile = profile or self.host(name).profile
        scenario = get_profile(profile).scenario_for(**knobs)
        host = self._new_host(_index(name), profile, scenario)
        kill_namespaces([host.namespace])
        self._reap()
        self._start([host])
        self._write_client_files([host if item.name == name else item for item in self.hosts()])
        return host

    def rekey(self, name: str) -> LabHost:
        """Restart ``name`` fresh with a new SSH host key; the lab's known_hosts gets the new key."""
        key = host_key(self.layout.host_dir(name))
        key.unlink(missing_ok=True)
        key.with_suffix(".pub").unlink(missing_ok=True)
        return self.reset(name)

    def suspend(self, name: str, seconds: float) -> float:
        """Pause VM host ``name`` for ``seconds`` (QMP stop/cont), as a provider's maintenance does;
        returns how long it was paused. A namespace host cannot be paused: LabError."""
        host = self.host(name)
        if get_profile(host.profile).vm is None:
            raise LabError(
                f"{name} is a namespace host (profile {host.profile}): only VM hosts (vm-*) can be suspended"
            )
        return suspend(qmp_socket(self.layout.host_dir(name)), seconds)

    def down(self) -> None:
        """Stop every lab process and remove namespaces, veths, the bridge and the files ``up`` wrote.

        The network of another lab directory's running lab is left alone.
        """
        if self._other_owner() is None:
            namespaces = _lab_namespaces()
            kill_namespaces(namespaces)
            self._reap()
            network.delete_namespaces(namespaces)
            OWNER_FILE.unlink(missing_ok=True)
        shutil.rmtree(self.layout.hosts_dir, ignore_errors=True)
        shutil.rmtree(self.layout.ntp_dir, ignore_errors=True)
        for path in self.layout.written_files():
            path.unlink(missing_ok=True)
        if self.layout.root.is_dir() and not any(self.layout.root.iterdir()):
            self.layout.root.rmdir()

    def status(self) -> LabStatus:
        hosts = self.hosts()
        inodes = {host.name: netns_inode(host.namespace) for host in hosts}
        pids = pids_by_netns(inode for inode in inodes.values() if inode is not None)
        states = []
        for host in hosts:
            inode = inodes[host.name]
            count = len(pids.get(inode, [])) if inode is not None else 0
            try:
                offset: float | None = self.clock_offset(host.name)
            except (OSError, ValueError):
                offset = None
            states.append(HostState(host, count, count > 0 and ssh_banner(host.address), offset))
        return LabStatus(network.NTP_SERVER, ntp_answers(), states)

    # -- internals -------------------------------------------------------------------------

    def _new_host(self, index: int, profile: str, scenario: Scenario) -> LabHost:
        node = network.host_node(index)
        user = "root" if scenario.user == "root" else SUDO_USER
        return LabHost(
            f"lab{index}", node.address, profile, user, node.namespace, self.layout.ssh_config, scenario
        )

    def _other_owner(self) -> str | None:
        """The directory of another lab that is up on this machine, if any.

        A lab whose processes are all gone (its session was killed before it went down) is not up.
        """
        owner = _owner()
        if owner is None or owner == str(self.layout.root) or not Path(owner, "lab.json").is_file():
            return None
        return owner if _lab_processes() else None

    def _claim(self, wait: float) -> None:
        """Take the network: wait up to ``wait`` s for another lab to go down; clear leftovers nobody owns."""
        with contextlib.suppress(LabError):
            wait_until(lambda: self._other_owner() is None, wait, "another lab to go down", interval=0.5)
        owner = self._other_owner()
        if owner is not None:
            raise LabError(f"another lab is up at {owner}: run `invoke lab.down --dir {owner}` first")
        if _owner() != str(self.layout.root) and (network.bridge_exists() or network.existing_namespaces()):
            self.down()
        OWNER_FILE.write_text(f"{self.layout.root}\n")

    def _running(self, host: LabHost) -> bool:
        inode = netns_inode(host.namespace)
        return inode is not None and bool(pids_by_netns([inode])[inode]) and ssh_banner(host.address)

    def _ensure_ntp_server(self) -> None:
        if ntp_answers():
            return
        node = network.ntp_node()
        kill_namespaces([node.namespace])
        if netns_inode(node.namespace) is None:
            network.create_nodes([node])
        network.configure_inside([node])
        self._children.append(start_ntp_server(self.layout.ntp_dir))

    def _start(self, hosts: list[LabHost]) -> None:
        if not hosts:
            return
        ensure_keys([self.layout.identity], "runbook-lab")
        ensure_keys([host_key(self.layout.host_dir(host.name)) for host in hosts], "runbook-lab-host")
        authorized = public_key(self.layout.identity) + " runbook-lab\n"
        nodes = [network.host_node(_index(host.name)) for host in hosts]
        kill_namespaces([node.namespace for node in nodes])
        self._reap()
        reused = {node.namespace for node in nodes if netns_inode(node.namespace) is not None}
        network.create_nodes([node for node in nodes if node.namespace not in reused])
        machines = [
            (h, n) for h, n in zip(hosts, nodes, strict=True) if get_profile(h.profile).vm is not None
        ]
        containers = [(h, n) for h, n in zip(hosts, nodes, strict=True) if get_profile(h.profile).vm is None]
        for _, node in containers:
            if node.namespace in reused:
                release_vm_network(node)
        network.configure_inside([node for _, node in containers])
        templates = {
            name: ensure_template(get_profile(name), self.cache)
            for name in {h.profile for h, _ in containers}
        }
        now = time.time()
        for host, node in containers:
            profile = get_profile(host.profile)
            prepare_host(
                self.layout.host_dir(host.name), node, host.name, profile, host.scenario, authorized, now
            )
        launched = {}
        for host, node in containers:
            host_dir = self.layout.host_dir(host.name)
            process = start_host(host_dir, node, host.name, templates[host.profile])
            self._children.append(process)
            launched[host.name] = (host.address, process, host_dir / "host.log")
        launched.update(self._start_vms(machines, authorized))
        wait_for_banners(launched, VM_BANNER_TIMEOUT if machines else BANNER_TIMEOUT)

    def _start_vms(
        self, machines: list[tuple[LabHost, network.Node]], authorized: str
    ) -> dict[str, tuple[str, subprocess.Popen[bytes], Path]]:
        """Start VM hosts (lab/vm): fresh disks over the cached image, network through a tap, QEMU."""
        launched = {}
        for host, node in machines:
            profile = get_profile(host.profile)
            assert profile.vm is not None
            image = ensure_image(profile.vm, self.cache)
            host_dir = self.layout.host_dir(host.name)
            now = time.time()
            prepare_vm(host_dir, node, host.name, profile, host.scenario, image, authorized, now)
            wire_vm_network(node)
            process = start_vm(host_dir, node, host.scenario, now)
            self._children.append(process)
            launched[host.name] = (host.address, process, console_log(host_dir))
        return launched
        wait_for_banners(launched, BANNER_TIMEOUT)

    def _write_client_files(self, hosts: list[LabHost]) -> None:
        keys = {host.name: host_key(self.layout.host_dir(host.name)) for host in hosts}
        write_client_files(self.layout, hosts, keys, sudo_password(self.cache))

    def _reap(self) -> None:
        """Collect launchers that have exited, so none lingers as a zombie."""
        self._children = [child for child in self._children if child.poll() is None]


def _owner() -> str | None:
    """The lab directory named in the owner file, if there is one."""
    return OWNER_FILE.read_text().strip() if OWNER_FILE.is_file() else None


def _lab_namespaces() -> set[str]:
    """This instance's lab namespaces (hosts and the NTP server) that exist now."""
    return {name for name in network.existing_namespaces() if LAB_NAMESPACE.match(name)}


def _lab_processes() -> list[int]:
    """Live processes in any of this instance's lab namespaces."""
    inodes = [inode for name in _lab_namespaces() if (inode := netns_inode(name)) is not None]
    return [pid for pids in pids_by_netns(inodes).values() for pid in pids]


def _index(name: str) -> int:
    match = re.fullmatch(r"lab(\d+)", name)
    if match is None:
        raise LabError(f"not a lab host name: {name!r}")
    return int(match.group(1))
