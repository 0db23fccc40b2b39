"""Helpers for the profile tests: the host's clock error over SSH and polling a command's output."""

from __future__ import annotations

import time

from lab import LabHost

THREE_HOURS = 3 * 3600.0


def clock_error(host: LabHost) -> float:
    """Host clock minus real clock, from one SSH round trip (whole seconds work on BusyBox date too)."""
    before = time.time()
    out = host.run("date +%s", check=True).stdout.strip()
    after = time.time()
    return float(out) - (before + after) / 2


def wait_for_output(host: LabHost, command: str, wanted: str, timeout: float = 10.0) -> str:
    """Run ``command`` until its stdout contains ``wanted``; the last output either way."""
    deadline = time.monotonic() + timeout
    while True:
        out = host.run(command).stdout
        if wanted in out or time.monotonic() > deadline:
            return out
        time.sleep(0.1)
