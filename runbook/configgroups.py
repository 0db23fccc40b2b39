"""One builder for every settings group: it reads each field's annotation to convert and check.

``build_group(cls, raw)`` walks ``dataclasses.fields(cls)`` with their type hints
(``Annotated`` kinds and checks from ``runbook.configvalues``, ``X | None``, ``tuple[X, ...]``,
``bool``, ``int``, ``float``, ``str`` and nested groups) and returns a ``cls``. Keys it does
not know, and a value a field does not accept, raise ``SettingsError`` naming them.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import MISSING, fields, is_dataclass
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, get_type_hints

from runbook.configvalues import Check, Items, Kind, boolean
from runbook.errors import SettingsError

Group = TypeVar("Group")
Path = tuple[str, ...]


def build_group(
    cls: type[Group],
    raw: Mapping[str, Any],
    *,
    path: Path = (),
    names: Mapping[Path, str] | None = None,
    section: str = "",
) -> Group:
    """``cls`` from ``raw`` (config-file shapes); a value of ``None`` counts as not given.

    ``path`` is where the group sits (``("backup",)``); ``names`` gives the name a setting is
    known by where that is not its dotted path (a flat key such as ``ntp_timeout``); ``section``
    names the group in messages when it is not ``path`` (``notify``).
    """
    where = section or ".".join(path) or "runbook"
    known = [item.name for item in fields(cls) if item.init]  # type: ignore[arg-type]
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise SettingsError(
            f"unknown {where} setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for item in fields(cls):  # type: ignore[arg-type]
        required = item.default is MISSING and item.default_factory is MISSING
        if required and raw.get(item.name) in (None, ""):
            raise SettingsError(f"{where} needs at least a {item.name} ({where}: {{{item.name}: ...}})")
        if raw.get(item.name) is not None:
            values[item.name] = convert(hints[item.name], raw[item.name], (*path, item.name), names or {})
    return cls(**values)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """``cls``'s field annotations, evaluated once per class (settings are built per step call)."""
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls, include_extras=True)
    return _HINTS[cls]


def convert(hint: Any, value: Any, path: Path, names: Mapping[Path, str]) -> Any:
    """``value`` as ``hint`` says, for the setting at ``path``."""
    name = names.get(path, ".".join(path))
    if get_origin(hint) is Annotated:
        base, *marks = get_args(hint)
        kinds = [mark for mark in marks if isinstance(mark, Kind)]
        items = next((mark for mark in marks if isinstance(mark, Items)), Items())
        result = kinds[0].convert(name, value) if kinds else _plain(base, value, path, names, items)
        for mark in marks:
            if isinstance(mark, Check):
                mark.check(name, result)
        return result
    return _plain(hint, value, path, names, Items())


def _plain(hint: Any, value: Any, path: Path, names: Mapping[Path, str], items: Items) -> Any:
    name = names.get(path, ".".join(path))
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        arms = [arm for arm in get_args(hint) if arm is not type(None)]
        if value is None or value == "":
            return None
        (arm,) = arms
        return convert(arm, value, path, names)
    if origin is tuple:
        item_hint = get_args(hint)[0]
        return tuple(convert(item_hint, item, path, names) for item in _items(name, value, items))
    if isinstance(hint, type) and is_dataclass(hint):
        return _group(hint, value, path, names)
    if hint is bool:
        return boolean(name, value)
    if hint is str:
        return str(value)
    if hint is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{name} must be a number, not {value!r}") from None
    raise TypeError(f"setting {name}: no conversion for {hint!r}; annotate it with a Kind")


def _group(cls: type, value: Any, path: Path, names: Mapping[Path, str]) -> Any:
    if isinstance(value, cls):
        return value
    shorthand = getattr(cls, "SHORTHAND", None)
    if isinstance(value, str) and shorthand:
        value = {shorthand: value}
    if not isinstance(value, Mapping):
        known = ", ".join(item.name for item in fields(cls))
        raise SettingsError(f"{'.'.join(path)} must be a mapping of {known}, not {value!r}")
    return build_group(cls, value, path=path, names=names)


def _items(name: str, value: Any, items: Items) -> list[str]:
    if isinstance(value, str):
        parts = value.split(",") if items.split_commas else [value]
    elif isinstance(value, list | tuple):
        parts = [str(part) for part in value]
    else:
        raise SettingsError(f"{name} must be a list or a comma-separated string, not {value!r}")
    return [part.strip() for part in parts if part.strip()]
