"""Processes of lab namespaces, found through /proc: whatever pid files say, nothing is left running."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable
from pathlib import Path

from lab.errors import LabError
from lab.waiting import wait_until

NETNS_DIR = Path("/run/netns")


def netns_inode(namespace: str) -> int | None:
    """Inode of a named network namespace (``ip netns add``), or None when it does not exist."""
    try:
        return (NETNS_DIR / namespace).stat().st_ino
    except FileNotFoundError:
        return None


def pids_by_netns(inodes: Iterable[int]) -> dict[int, list[int]]:
    """Live processes (not zombies) in each of the network namespaces given by inode."""
    wanted = set(inodes)
    found: dict[int, list[int]] = {inode: [] for inode in wanted}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            inode = os.stat(f"/proc/{entry.name}/ns/net").st_ino
        except OSError:
            continue
        if inode in wanted:
            found[inode].append(int(entry.name))
    return found


def kill_namespaces(namespaces: Iterable[str], timeout: float = 10.0) -> None:
    """SIGKILL every process in the named network namespaces and wait until all are gone.

    Processes started inside go first, so each launcher (``unshare``, whose parent is outside) reaps
    its child and exits by itself; whatever is left is killed next.
    """
    inodes = [inode for name in namespaces if (inode := netns_inode(name)) is not None]
    if not inodes:
        return

    def remaining() -> list[int]:
        return [pid for pids in pids_by_netns(inodes).values() for pid in pids]

    inside = set(remaining())
    launchers = {pid for pid in inside if _parent(pid) not in inside}
    for pid in inside - launchers:
        _kill(pid)
    with contextlib.suppress(LabError):
        wait_until(lambda: not set(remaining()) - launchers, timeout / 2, "lab processes to exit")

    def all_gone() -> bool:
        left = remaining()
        for pid in left:
            _kill(pid)
        return not left

    wait_until(all_gone, timeout, "lab processes to exit")


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
