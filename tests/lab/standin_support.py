"""Shared helpers for the stand-in and libfaketime tests.

The cached library, the real-clock guard, capsh, and a test network: two network namespaces joined by a
veth pair, the "upstream" one running a tiny NTP server (``python standin_support.py serve``) that answers
differently per address.
"""

from __future__ import annotations

import functools
import os
import select
import shlex
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.faketime import ensure_libfaketime

STANDINS = Path(__file__).resolve().parents[2] / "lab" / "standins"
CACHE_DIR = Path(os.environ.get("RUNBOOK_LAB_CACHE", Path.home() / ".cache" / "runbook-lab"))


def require_root() -> None:
    """Skip unless root: dropping capabilities, namespaces and port 123 need it."""
    if os.geteuid() != 0:
        pytest.skip("needs root (capsh --drop, unshare, UDP 123)")


@functools.cache
def faketime_library() -> Path:
    """The lab's libfaketime, built once per cache folder."""
    return ensure_libfaketime(CACHE_DIR)


@contextmanager
def real_clock_unchanged(tolerance: float = 0.5) -> Iterator[None]:
    """Fail if the machine's real clock was stepped while the block ran (wall clock versus monotonic)."""
    wall, mono = time.time(), time.monotonic()
    yield
    drift = (time.time() - wall) - (time.monotonic() - mono)
    assert abs(drift) < tolerance, f"the real clock moved by {drift:+.3f} s"


def run_without_settime(
    command: str, env: Mapping[str, str] | None = None, timeout: float = 30, netns: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a bash command without CAP_SYS_TIME in its bounding set: it can never set the real clock."""
    enter = ["ip", "netns", "exec", netns] if netns else []
    return subprocess.run(
        [*enter, "capsh", "--drop=cap_sys_time", "--", "-c", command],
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@functools.cache
def ntpsec_sbin() -> Path:
    """usr/sbin of Debian's ntpsec package, unpacked (never installed: it conflicts with chrony)."""
    root = CACHE_DIR / "ntpsec"
    if not (root / "usr" / "sbin" / "ntpd").is_file():
        download = CACHE_DIR / "ntpsec-download"
        download.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", "ntpsec"], cwd=download, check=True, capture_output=True)
        (package,) = download.glob("ntpsec_*.deb")
        subprocess.run(["dpkg-deb", "-x", str(package), str(root)], check=True)
    return root / "usr" / "sbin"


@dataclass(frozen=True)
class Ran:
    """One command's exit code and output."""

    rc: int
    out: str
    err: str


def run_isolated(
    setup: str,
    commands: list[str],
    workdir: Path,
    env: Mapping[str, str] | None = None,
    netns: str | None = None,
) -> list[Ran]:
    """Run `setup`, then each command, in one throw-away mount and PID namespace without CAP_SYS_TIME.

    Mounts made by `setup` (tmpfs, overlays) vanish with the namespace. Each command's output is kept, byte
    for byte (carriage returns too), in `workdir`, which `setup` must leave visible.
    """
    script = ["set -e", setup, "set +e"]
    for index, command in enumerate(commands):
        base = shlex.quote(str(workdir / str(index)))
        script.append(f"( {command} ) >{base}.out 2>{base}.err; echo $? >{base}.rc")
    inner = shlex.join(["unshare", "-m", "-p", "-f", "--mount-proc", "bash", "-c", "\n".join(script)])
    done = run_without_settime(inner, env=env, netns=netns, timeout=120)
    assert done.returncode == 0, f"setup failed: {done.stdout}{done.stderr}"

    def read(name: str) -> str:
        return (workdir / name).read_bytes().decode()

    return [Ran(int(read(f"{i}.rc")), read(f"{i}.out"), read(f"{i}.err")) for i in range(len(commands))]


NTP_EPOCH = 2208988800
SUBNET = "10.201.7"
CLIENT_ADDRESS = f"{SUBNET}.2"
# The test server's behaviour per address (all on port 123 in the upstream namespace).
SERVER_KINDS = {f"{SUBNET}.1": "good", f"{SUBNET}.3": "silent", f"{SUBNET}.4": "kod", f"{SUBNET}.5": "unsync"}


@dataclass(frozen=True)
class NtpNetwork:
    """A client namespace that reaches the test NTP server's addresses (see SERVER_KINDS)."""

    client: str
    upstream: str

    def address(self, kind: str) -> str:
        return next(address for address, known in SERVER_KINDS.items() if known == kind)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@contextmanager
def ntp_network() -> Iterator[NtpNetwork]:
    """Create the namespaces, the veth pair and the NTP server; remove them all afterwards."""
    require_root()
    tag = f"rbsi{os.getpid()}"
    network = NtpNetwork(client=f"{tag}-c", upstream=f"{tag}-u")
    with ExitStack() as cleanup:
        for namespace in (network.client, network.upstream):
            _ip("netns", "add", namespace)
            cleanup.callback(_ip, "netns", "del", namespace)
            _ip("-n", namespace, "link", "set", "lo", "up")
        _ip(
            "-n",
            network.client,
            "link",
            "add",
            "veth0",
            "type",
            "veth",
            "peer",
            "veth0",
            "netns",
            network.upstream,
        )
        _ip("-n", network.client, "addr", "add", f"{CLIENT_ADDRESS}/24", "dev", "veth0")
        for address in SERVER_KINDS:
            _ip("-n", network.upstream, "addr", "add", f"{address}/24", "dev", "veth0")
        for namespace in (network.client, network.upstream):
            _ip("-n", namespace, "link", "set", "veth0", "up")
        server = subprocess.Popen(
            ["ip", "netns", "exec", network.upstream, sys.executable, __file__, "serve"],
            stdout=subprocess.PIPE,
            text=True,
        )
        cleanup.callback(server.wait, 10)
        cleanup.callback(server.terminate)
        assert server.stdout is not None
        assert server.stdout.readline() == "ready\n"
        yield network


def _answer(kind: str, request: bytes) -> bytes | None:
    if kind == "silent" or len(request) < 48 or request[0] & 7 != 3:
        return None
    transmit = request[40:48]
    now = int((time.time() + NTP_EPOCH) * 2**32)
    leap, stratum, refid = {"good": (0, 2, b"LOCL"), "kod": (3, 0, b"DENY"), "unsync": (3, 16, b"\0\0\0\0")}[
        kind
    ]
    header = struct.pack(
        "!BBbb4s4s4sQ", leap << 6 | 4 << 3 | 4, stratum, 6, -20, b"\0\0\0\x10", b"\0\0\0\x20", refid, now
    )
    return header + transmit + struct.pack("!QQ", now, now)


def serve() -> None:
    """The test NTP server: bind every address of SERVER_KINDS on port 123, say ready, answer until killed."""
    sockets: dict[socket.socket, str] = {}
    for address, kind in SERVER_KINDS.items():
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((address, 123))
        sockets[sock] = kind
    print("ready", flush=True)
    while True:
        for sock in select.select(list(sockets), [], [])[0]:
            request, peer = sock.recvfrom(512)
            reply = _answer(sockets[sock], request)
            if reply is not None:
                sock.sendto(reply, peer)


if __name__ == "__main__" and sys.argv[1:] == ["serve"]:
    serve()
