"""Shared helpers for the stand-in and libfaketime tests: the cached library, the real-clock guard, capsh."""

from __future__ import annotations

import functools
import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from runbook.lab.faketime import ensure_libfaketime

STANDINS = Path(__file__).resolve().parents[2] / "runbook" / "lab" / "standins"
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
    command: str, env: Mapping[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run a bash command without CAP_SYS_TIME in its bounding set: it can never set the real clock."""
    return subprocess.run(
        ["capsh", "--drop=cap_sys_time", "--", "-c", command],
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
