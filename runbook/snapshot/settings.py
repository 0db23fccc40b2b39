"""The ``before_after`` settings: operator commands, which snapshot to compare with, ``--restore``."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from runbook.errors import SettingsError


@dataclass(frozen=True)
class BeforeAfterSettings:
    """``commands`` whose output is compared as text; ``before``: the snapshot file to compare with
    (default: the host's newest in the record folder); ``restore``: start the services that ran
    before; ``disk_growth``: percentage points of use a file system may gain before a warning."""

    commands: tuple[str, ...] = ()
    before: str | None = None
    restore: bool = False
    disk_growth: float = 10.0


def parse_before_after(value: Any) -> BeforeAfterSettings:
    """``before_after: {commands: [...], before: FILE, restore: bool, disk_growth: N}``, checked."""
    if isinstance(value, BeforeAfterSettings):
        return value
    if not isinstance(value, dict):
        raise SettingsError(f"before_after must be a mapping (commands, before, restore), not {value!r}")
    known = {f.name for f in fields(BeforeAfterSettings)}
    unknown = sorted(set(value) - known)
    if unknown:
        raise SettingsError(
            f"unknown before_after setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    commands = value.get("commands") or ()
    if isinstance(commands, str):
        commands = (commands,)
    if not isinstance(commands, list | tuple) or not all(isinstance(c, str) and c.strip() for c in commands):
        raise SettingsError("before_after.commands must be a list of shell commands (non-empty strings)")
    restore = value.get("restore", False)
    if not isinstance(restore, bool):
        raise SettingsError(f"before_after.restore must be true or false, not {restore!r}")
    try:
        growth = float(value.get("disk_growth", 10.0))
    except (TypeError, ValueError):
        raise SettingsError(
            f"before_after.disk_growth must be a number of percentage points, not {value['disk_growth']!r}"
        ) from None
    before = value.get("before")
    return BeforeAfterSettings(tuple(commands), str(before) if before else None, restore, growth)
