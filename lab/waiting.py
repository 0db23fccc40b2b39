"""Poll a condition with a bounded timeout instead of sleeping a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable

from lab.errors import LabError


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.01) -> None:
    """Return once ``condition()`` is true; raise LabError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise LabError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
