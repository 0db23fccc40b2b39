"""runbook: the checks and repairs a server needs after its hosting provider's maintenance."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("runbook")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
