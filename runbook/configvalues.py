"""Reading config-file values that every settings module shares: what counts as true or false."""

from __future__ import annotations

from typing import Any

from runbook.errors import SettingsError

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


def boolean(name: str, value: Any) -> bool:
    """``value`` of setting ``name`` as a bool: a bool, or yes/no, true/false, on/off, 1/0."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise SettingsError(f"{name} must be true or false, not {value!r}")
