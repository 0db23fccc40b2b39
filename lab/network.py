"""The lab network: a bridge in the root namespace and one network namespace + veth per lab node.

Node 0 is the upstream NTP server; lab host N is node N. Every veth end gets a fixed MAC derived
from the node index, so a recreated host answers at once (no stale ARP entry on the bridge).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

from lab.errors import LabError


def lab_instance() -> int:
    """Which lab this process drives: ``$RUNBOOK_LAB_INSTANCE`` (0 by default, up to 50).

    Each instance has its own bridge, subnet (10.200+N.0.0/24), namespaces and veths, so
    several labs (say, two developers' test runs) can be up on one machine at once.
    """
    raw = os.environ.get("RUNBOOK_LAB_INSTANCE", "0").strip() or "0"
    if not raw.isdigit() or int(raw) > 50:
        raise LabError(f"RUNBOOK_LAB_INSTANCE must be a number from 0 to 50, not {raw!r}")
    return int(raw)


INSTANCE = lab_instance()
_TAG = "" if INSTANCE == 0 else str(INSTANCE)
BRIDGE = f"labbr{INSTANCE}"
SUBNET_PREFIX = f"10.{200 + INSTANCE}.0"
PREFIX_LENGTH = 24
GATEWAY = f"{SUBNET_PREFIX}.1"
SUBNET = f"{SUBNET_PREFIX}.0/{PREFIX_LENGTH}"
NTP_SERVER = f"{SUBNET_PREFIX}.2"
FIRST_HOST_OCTET = 10
MAX_HOSTS = 240
NAMESPACE_PREFIX = f"lab{_TAG}-"
VETH_PREFIX = f"lab{_TAG}v"


@dataclass(frozen=True)
class Node:
    """One namespace on the lab bridge."""

    index: int
    namespace: str
    address: str

    @property
    def veth(self) -> str:
        return f"{VETH_PREFIX}{self.index}"

    @property
    def inner_mac(self) -> str:
        return _mac(0x4C, self.index)

    @property
    def bridge_mac(self) -> str:
        return _mac(0x4D, self.index)


def _mac(kind: int, index: int) -> str:
    return f"02:4c:{INSTANCE:02x}:{kind:02x}:{index >> 8:02x}:{index & 0xFF:02x}"


def ntp_node() -> Node:
    return Node(0, f"{NAMESPACE_PREFIX}ntp", NTP_SERVER)


def host_node(index: int) -> Node:
    """Node of lab host ``lab<index>``, index 1..MAX_HOSTS."""
    if not 1 <= index <= MAX_HOSTS:
        raise LabError(f"lab hosts are numbered 1..{MAX_HOSTS}, not {index}")
    return Node(index, f"{NAMESPACE_PREFIX}lab{index}", f"{SUBNET_PREFIX}.{FIRST_HOST_OCTET + index}")


def _ip_batch(lines: list[str]) -> None:
    if not lines:
        return
    done = subprocess.run(
        ["ip", "-batch", "-"], input="\n".join(lines) + "\n", capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise LabError(f"ip -batch failed: {done.stderr.strip()}")


def existing_namespaces() -> set[str]:
    """Names of the lab's network namespaces that exist now."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    names = {line.split()[0] for line in listed.splitlines() if line.strip()}
    return {name for name in names if name.startswith(NAMESPACE_PREFIX)}


def bridge_exists() -> bool:
    return subprocess.run(["ip", "link", "show", BRIDGE], capture_output=True, check=False).returncode == 0


def ensure_bridge() -> None:
    if not bridge_exists():
        _ip_batch(
            [
                f"link add {BRIDGE} type bridge",
                f"addr add {GATEWAY}/{PREFIX_LENGTH} dev {BRIDGE}",
                f"link set {BRIDGE} up",
            ]
        )


def create_nodes(nodes: list[Node]) -> None:
    """Create the namespace and veth pair of each node (their inner addresses are set inside)."""
    lines: list[str] = []
    for node in nodes:
        lines += [
            f"netns add {node.namespace}",
            f"link add {node.veth} address {node.bridge_mac} type veth "
            f"peer name eth0 address {node.inner_mac} netns {node.namespace}",
            f"link set {node.veth} master {BRIDGE} up",
        ]
    _ip_batch(lines)


def configure_inside(nodes: list[Node]) -> None:
    """Give each node's inner veth its address and bring its interfaces up."""
    for node in nodes:
        done = subprocess.run(
            ["ip", "-n", node.namespace, "-batch", "-"],
            input=f"link set lo up\naddr replace {node.address}/{PREFIX_LENGTH} dev eth0\nlink set eth0 up\n",
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise LabError(f"configuring {node.namespace} failed: {done.stderr.strip()}")


def lab_veths() -> list[str]:
    """Root-side veth ends of lab nodes that exist now."""
    listed = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    names = (line.split(":")[1].strip().split("@")[0] for line in listed.splitlines() if line.count(":") >= 2)
    return [name for name in names if re.fullmatch(rf"{VETH_PREFIX}\d+", name)]


def delete_namespaces(namespaces: set[str]) -> None:
    """Delete the lab's veth pairs (at once: a namespace's own devices go asynchronously), the
    namespaces, then the bridge."""
    _ip_batch([f"link delete {name}" for name in lab_veths()])
    _ip_batch([f"netns delete {name}" for name in sorted(namespaces & existing_namespaces())])
    if bridge_exists():
        _ip_batch([f"link delete {BRIDGE}"])
