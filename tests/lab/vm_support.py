"""VM lab hosts for the end-to-end tests: one booted VM per profile per session, added to the session lab.

Booting a VM under TCG takes ~20-30 s, so each profile's VM is started once (lab7, lab8, ... in the
order tests first ask for them) and tests that need a fresh one say so with ``fresh_vm``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from lab import Lab, LabHost

SYNC_WAIT = 120.0


def add_vm(lab: Lab, profile: str, **knobs: Any) -> LabHost:
    """One more lab host, a VM of ``profile``, booted and answering SSH."""
    return lab.up(profile=profile, hosts=len(lab.hosts()) + 1, **knobs)[-1]


def guest_offset(host: LabHost) -> tuple[float, float]:
    """The guest clock minus the controller's, and its error bound (half the SSH round trip)."""
    before = time.time()
    done = host.run("date +%s.%N", check=True)
    after = time.time()
    return float(done.stdout) - (before + after) / 2, (after - before) / 2


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(1.0)


def shared_vm(lab: Lab, cache: dict[str, LabHost], profile: str, **knobs: Any) -> LabHost:
    """The session's VM of ``profile``: booted on first use, and again once the lab has lost it
    (the lifecycle tests take the whole lab down and bring back namespace hosts only)."""
    if profile not in cache or not still_in_lab(lab, cache[profile]):
        cache[profile] = add_vm(lab, profile, **knobs)
    return cache[profile]


def still_in_lab(lab: Lab, host: LabHost) -> bool:
    """Whether the lab still has ``host`` under its name and profile."""
    return any(item.name == host.name and item.profile == host.profile for item in lab.hosts())
