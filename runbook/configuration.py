"""Where the settings of a run come from, in order, each later source winning key by key.

1. built-in defaults;
2. the ``runbook:`` section of Invoke's config files: ``/etc/invoke.yaml``, ``~/.invoke.yaml``,
   ``invoke.yaml`` beside tasks.py;
3. ``runbook.yaml`` in the current directory, when there is one (its ``runbook:`` section, or
   the whole file when it has none);
4. the file given with ``-f FILE``;
5. flags.

A ``for:`` mapping in any file holds settings for some hosts only: its keys are host names,
patterns (``web*``) or groups (``@db``, from the ssh_config's ``# runbook-group`` lines), and a
host gets, over the run's settings, every entry that names it, groups and patterns first and
its own name last; flags still win. ``Sources.explain`` says where each setting came from.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml
from invoke.config import Config

from runbook.errors import SettingsError
from runbook.settings import FLAT_KEYS, SETTING_NAMES, Settings, build_settings, flat, setting

LOCAL_FILE = "runbook.yaml"
FLAGS = "flag"
DEFAULT = "built-in default"
RUN_WIDE = frozenset(
    {"parallel", "record_dir", "timezone", "operator", "ssh_config", "dry_run", "window", "notify"}
)
"""Settings of the whole run: a ``for:`` entry may not change them."""
_MERGED = frozenset({"backup", "before_after", "notify"})  # mappings merged key by key across sources


@dataclass(frozen=True)
class Source:
    """One place settings came from: its label (a path, ``flag``) and its ``runbook`` values."""

    label: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Sources:
    """Every source of a run's settings, lowest first, and the ``for:`` entries in file order."""

    layers: tuple[Source, ...]
    per_host: tuple[tuple[str, Source], ...]

    def settings(self) -> Settings:
        """The run's settings (no ``for:`` entry applied)."""
        return build_settings(_merged(layer.values for layer in self.layers))

    def for_host(self, host: str, groups: Callable[[str], set[str]]) -> Settings:
        """``host``'s settings: the run's, then the ``for:`` entries naming it, then the flags again."""
        return build_settings(_merged(layer.values for layer in self._host_layers(host, groups)))

    def explain(
        self, host: str | None = None, groups: Callable[[str], set[str]] | None = None
    ) -> list[tuple[str, str, str]]:
        """``(setting, value, source)`` for every setting, as the run (or ``host``) gets it."""
        layers = self._host_layers(host, groups or (lambda _: set())) if host else list(self.layers)
        settings = build_settings(_merged(layer.values for layer in layers))
        origin: dict[str, str] = {}
        for layer in layers:
            for key in layer.values:
                origin[key] = layer.label
        rows = []
        for name in (key for key, path in FLAT_KEYS.items() if SETTING_NAMES[path] == key):
            value = setting(settings, name)
            if name == "notify":
                shown = ", ".join(f"{key}={text}" for key, text in value.shown().items())
            else:
                shown = "(hidden)" if name == "sudo_password" and value else _shown(value)
            rows.append((name, shown, origin.get(name, DEFAULT)))
        return rows

    def _host_layers(self, host: str, groups: Callable[[str], set[str]]) -> list[Source]:
        matching = [entry for key, entry in self.per_host if _names(key, host, groups) and key != host]
        exact = [entry for key, entry in self.per_host if key == host]
        flags = [layer for layer in self.layers if layer.label == FLAGS]
        files = [layer for layer in self.layers if layer.label != FLAGS]
        return [*files, *matching, *exact, *flags]


def gather(config: Config, flags: Mapping[str, Any], cwd: Path | None = None) -> Sources:
    """The sources of a run's settings from Invoke's ``config`` (its files and ``-f FILE``) and ``flags``.

    Raises ``SettingsError`` for a file that cannot be read or a ``for:`` entry that changes
    a setting of the whole run.
    """
    layers: list[Source] = []
    per_host: list[tuple[str, Source]] = []
    runtime = _path(getattr(config, "_runtime_path", None))
    for level in ("system", "user", "project"):
        data = getattr(config, f"_{level}", None) or {}
        label = str(_path(getattr(config, f"_{level}_path", None)) or f"Invoke {level} config")
        _add(layers, per_host, label, _section(data, label, whole=False))
    local = (cwd or Path.cwd()) / LOCAL_FILE
    if local.is_file() and (runtime is None or runtime.resolve() != local.resolve()):
        _add(layers, per_host, str(local), _section(_load(local), str(local), whole=True))
    if runtime is not None:
        data = getattr(config, "_runtime", None) or {}
        _add(layers, per_host, str(runtime), _section(data, str(runtime), whole=runtime.name == LOCAL_FILE))
    given = flat({key: value for key, value in flags.items() if value is not None})
    if given:
        layers.append(Source(FLAGS, given))
    build_settings(_merged(layer.values for layer in layers))  # a bad value fails now, naming itself
    return Sources(tuple(layers), tuple(per_host))


def _add(
    layers: list[Source], per_host: list[tuple[str, Source]], label: str, section: dict[str, Any]
) -> None:
    if not section:
        return
    entries = section.pop("for", None) or {}
    if not isinstance(entries, dict):
        raise SettingsError(f"{label}: 'for' must map host names, patterns or @groups to settings")
    for key, given in entries.items():
        if not isinstance(given, dict):
            raise SettingsError(f"{label}: for {key}: give a mapping of settings, not {given!r}")
        try:
            values = flat(given)
        except SettingsError as exc:
            raise SettingsError(f"{label}: for {key}: {exc}") from None
        fleet_wide = sorted(RUN_WIDE & set(values))
        if fleet_wide:
            raise SettingsError(
                f"{label}: for {key}: {', '.join(fleet_wide)} is a setting of the whole run and cannot "
                "differ per host; move it out of 'for'"
            )
        per_host.append((str(key), Source(f"{label} (for {key})", values)))
    if section:
        layers.append(Source(label, flat(section)))


def _section(data: Any, label: str, *, whole: bool) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise SettingsError(f"{label} holds no mapping of settings: write 'runbook:' and settings under it")
    section = data.get("runbook", data if whole else None)
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise SettingsError(f"{label}: 'runbook' must be a mapping of settings")
    return _plain(section)


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SettingsError(f"{path} cannot be read: {reason}; fix or move it") from None


def _merged(sections: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for section in sections:
        for key, value in section.items():
            if key in _MERGED and isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return merged


def _names(key: str, host: str, groups: Callable[[str], set[str]]) -> bool:
    if key.startswith("@"):
        return host in groups(key[1:])
    return fnmatch.fnmatchcase(host, key)


def _path(value: Any) -> Path | None:
    return Path(value) if value else None


def _plain(section: Any) -> dict[str, Any]:
    """An Invoke DataProxy section (or a mapping) as plain dicts and lists."""
    if hasattr(section, "_config"):
        section = dict(section.items())
    return {
        k: _plain(v) if hasattr(v, "_config") or isinstance(v, Mapping) else v
        for k, v in dict(section).items()
    }


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) or "-"
    if hasattr(value, "__dataclass_fields__"):
        return ", ".join(
            f"{f.name}={getattr(value, f.name)}" for f in fields(value) if getattr(value, f.name) is not None
        )
    return str(value)
