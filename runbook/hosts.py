"""Which hosts a fleet run covers: names, host files, patterns and groups from the ssh_config.

``select_hosts(args, hosts_files=..., ssh_config=...)`` turns what the operator typed into an
ordered list of host names, each once:

- a plain name (``web01``, ``10.0.0.5``) is taken as it is;
- a pattern (``lab*``, ``web0?``, ``db[12]``: shell-style, as OpenSSH's ``Host`` lines) expands
  to the concrete names on the ssh_config's ``Host`` lines it matches, in file order;
- ``@NAME`` expands to a group, declared by a comment line in the ssh_config:
  ``# runbook-group NAME: web01 web02 db*`` (members are names, patterns or other ``@groups``);
- a hosts file holds one entry per line (any of the above); ``#`` starts a comment.

A pattern or group that matches nothing, an unknown group, a missing file and a host name
with characters other than letters, digits and ``.-_:[]@`` (or a leading ``-``) are
``HostSelectionError``, raised before anything runs on a host. Host names reach
``%h`` in the ssh_config's ``Match exec`` and ``ProxyCommand``, which run through a shell:
OpenSSH 9.6 refuses such names for this reason (CVE-2023-51385). ``failed_hosts(record)``
reads the hosts that failed (or were not run) from an earlier run's record or journal.
"""

from __future__ import annotations

import fnmatch
import glob
import json
import os
import re
import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runbook.errors import HostSelectionError, RecordError
from runbook.record.journal import load_journal

DEFAULT_SSH_CONFIG = "~/.ssh/config"
_GROUP_LINE = re.compile(r"^\s*#\s*runbook-group\s+([A-Za-z0-9_.-]+)\s*:(.*)$")
_PATTERN_CHARS = frozenset("*?[")
_HOST_NAME = re.compile(r"[A-Za-z0-9._:@\[\]-]+", re.ASCII)
_HOST_ENTRY = re.compile(r"[A-Za-z0-9._:@\[\]*?-]+", re.ASCII)
_MAX_INCLUDE_DEPTH = 8


@dataclass
class SshInventory:
    """The concrete host names (file order) and the groups an ssh_config declares."""

    path: Path | None
    names: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)


def is_pattern(entry: str) -> bool:
    """Whether ``entry`` is a shell-style pattern rather than one host name."""
    return any(ch in _PATTERN_CHARS for ch in entry)


def check_host_name(name: str, where: str) -> str:
    """``name`` if it is safe as a host name; else ``HostSelectionError`` naming it and ``where``."""
    if _HOST_NAME.fullmatch(name) and not name.startswith("-"):
        return name
    raise HostSelectionError(_bad_name(name, where))


def _bad_name(name: str, where: str) -> str:
    return (
        f"host name {name!r} ({where}) has characters other than letters, digits and .-_:[]@ "
        "or starts with '-': fix or remove that entry"
    )


def read_hosts_file(path: str | Path) -> list[str]:
    """The entries of a hosts file: one per line, ``#`` comments and blank lines ignored."""
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HostSelectionError(f"hosts file {file} does not exist: check --hosts-file") from None
    except OSError as exc:
        raise HostSelectionError(f"cannot read hosts file {file}: {exc.strerror or exc}") from None
    entries = []
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            entries.extend(entry.split())
    return entries


def read_inventory(ssh_config: str | Path | None) -> SshInventory:
    """Host names and groups from ``ssh_config`` (default ``~/.ssh/config``; absent: empty).

    ``Include`` lines are followed (relative paths from ``~/.ssh``, as OpenSSH does for a
    user config, and from the including file's folder); ``Match`` blocks add no names.
    """
    if ssh_config is None:
        default = Path(DEFAULT_SSH_CONFIG).expanduser()
        if not default.is_file():
            return SshInventory(path=None)
        path = default
    else:
        path = Path(ssh_config).expanduser()
        if not path.is_file():
            raise HostSelectionError(f"ssh config {path} does not exist: check --ssh-config")
    inventory = SshInventory(path=path)
    _read_config(path, inventory, depth=0)
    return inventory


def _read_config(path: Path, inventory: SshInventory, depth: int) -> None:
    if depth > _MAX_INCLUDE_DEPTH:
        raise HostSelectionError(f"ssh config {path}: Include nested more than {_MAX_INCLUDE_DEPTH} deep")
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise HostSelectionError(f"cannot read ssh config {path}: {exc.strerror or exc}") from None
    for line in text.splitlines():
        group = _GROUP_LINE.match(line)
        if group:
            inventory.groups.setdefault(group[1], []).extend(group[2].split())
            continue
        words = _words(line)
        if not words:
            continue
        keyword, args = words[0].lower(), words[1:]
        if keyword == "host":
            for name in args:
                if not name.startswith("!") and not is_pattern(name) and name not in inventory.names:
                    inventory.names.append(name)
        elif keyword == "include":
            for included in _includes(args, path.parent):
                _read_config(included, inventory, depth + 1)


def _words(line: str) -> list[str]:
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return []
    key, _, rest = stripped.replace("=", " ", 1).partition(" ")
    try:
        return [key, *shlex.split(rest)]
    except ValueError:
        return [key, *rest.split()]


def _includes(args: Iterable[str], folder: Path) -> list[Path]:
    found: list[Path] = []
    for arg in args:
        expanded = os.path.expanduser(arg)
        bases = (
            [expanded]
            if os.path.isabs(expanded)
            else [
                str(Path("~/.ssh").expanduser() / expanded),
                str(folder / expanded),
            ]
        )
        for base in bases:
            matches = sorted(glob.glob(base))
            if matches:
                found.extend(Path(m) for m in matches if Path(m).is_file())
                break
    return found


def select_hosts(
    entries: Sequence[str],
    *,
    hosts_files: Sequence[str | Path] = (),
    ssh_config: str | Path | None = None,
) -> list[str]:
    """The hosts to run on, in the order given, each once (see the module docstring)."""
    wanted = [(entry, "--host") for entry in entries]
    for path in hosts_files:
        wanted.extend((entry, f"hosts file {path}") for entry in read_hosts_file(path))
    for entry, where in wanted:
        if not _HOST_ENTRY.fullmatch(entry) or entry.startswith("-"):
            raise HostSelectionError(_bad_name(entry, where))
    if not wanted:
        raise HostSelectionError(
            "no host given: pass --host NAME (repeatable, patterns and @groups allowed) or --hosts-file FILE"
        )
    inventory: SshInventory | None = None
    if any(is_pattern(e) or e.startswith("@") for e, _ in wanted):
        inventory = read_inventory(ssh_config)
    chosen: dict[str, None] = {}
    for entry, source in wanted:
        for name in _expand(entry, source, inventory, seen=()):
            chosen.setdefault(name, None)
    return list(chosen)


def groups_of(ssh_config: str | Path | None) -> Callable[[str], set[str]]:
    """``members(group)``: the hosts of a group the ssh_config declares (an empty set for an unknown one)."""
    inventory: SshInventory | None = None
    known: dict[str, set[str]] = {}

    def members(group: str) -> set[str]:
        nonlocal inventory
        if group not in known:
            inventory = inventory or read_inventory(ssh_config)
            found = group in inventory.groups
            known[group] = set(_expand(f"@{group}", "the ssh_config", inventory, seen=())) if found else set()
        return known[group]

    return members


def _expand(entry: str, source: str, inventory: SshInventory | None, seen: tuple[str, ...]) -> list[str]:
    if not entry.startswith("@") and not is_pattern(entry):
        return [check_host_name(entry, source)]
    assert inventory is not None
    where = f"ssh config {inventory.path}" if inventory.path else "no ssh config (~/.ssh/config is absent)"
    if entry.startswith("@"):
        group = entry[1:]
        if group in seen:
            raise HostSelectionError(f"group @{group} includes itself (via {' -> '.join(seen)})")
        if group not in inventory.groups:
            known = ", ".join(f"@{g}" for g in inventory.groups) or "none"
            raise HostSelectionError(
                f"unknown host group @{group} in {where} (known: {known}); declare it with a line "
                f"'# runbook-group {group}: HOST ...'"
            )
        members = inventory.groups[group]
        within = f"host group @{group} in {where}"
        names = [n for member in members for n in _expand(member, within, inventory, (*seen, group))]
        if not names:
            raise HostSelectionError(f"host group @{group} in {where} has no members")
        return names
    names = [
        check_host_name(name, f"Host line in {where}")
        for name in inventory.names
        if fnmatch.fnmatchcase(name, entry)
    ]
    if not names:
        raise HostSelectionError(
            f"host pattern {entry!r} matches no Host entry in {where}: check the pattern or --ssh-config"
        )
    return names


def failed_hosts(record: str | Path) -> list[str]:
    """The hosts that failed, were not run or were interrupted in an earlier run, in its order.

    ``record`` is a fleet JSON record (``fleet-*.json``), a host JSON record, or the run's
    journal (``run-*.jsonl``).
    """
    path = Path(record).expanduser()
    if not path.is_file():
        raise HostSelectionError(
            f"record {path} does not exist: pass a fleet-*.json record or run-*.jsonl journal"
        )
    if path.suffix == ".jsonl":
        try:
            fleet = load_journal(path)
        except RecordError as exc:
            raise HostSelectionError(str(exc)) from None
        return [check_host_name(run.host, f"journal {path}") for run in fleet.runs if not run]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HostSelectionError(f"cannot read record {path}: {exc}") from None
    lines = data.get("hosts") if isinstance(data, dict) else None
    if isinstance(data, dict) and isinstance(data.get("host"), str):
        lines = [data]
    if not isinstance(lines, list) or not all(isinstance(line, dict) and "host" in line for line in lines):
        raise HostSelectionError(
            f"{path} is not a runbook record: pass a fleet-*.json or host JSON record, "
            "or a run-*.jsonl journal"
        )
    failed = [str(line["host"]) for line in lines if line.get("outcome") == "failed"]
    return [check_host_name(name, f"record {path}") for name in failed]


__all__ = [
    "HostSelectionError",
    "SshInventory",
    "check_host_name",
    "failed_hosts",
    "is_pattern",
    "read_hosts_file",
    "read_inventory",
    "select_hosts",
]
