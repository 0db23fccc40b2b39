"""The probe fragment that reads a host's cron setup, and its pure parser.

``cron_fragment(paths)`` is POSIX sh that changes nothing on the host. It prints the line
``@@runbook:cron@@`` and then blocks. A block starts with a tag line ``B KIND NAME`` where
NAME is hex-encoded; the lines after it, up to the next tag, hold the block's bytes as
hex (``od -An -v -tx1``). File contents and names never reach the output as text, so no
content (a line ``@@runbook:date@@``, a form feed, a fake tag) can end or forge a block.

Kinds: ``file PATH`` (contents), ``denied PATH`` (exists, not readable), ``dir PATH``
(a listed directory), ``exec PATH`` / ``noexec PATH`` (an entry of a run-parts directory),
``out NAME`` (a command's output: ``btime``, ``uptime-s``, ``last``, ``localtime``,
``date``) and ``flag NAME`` (``debian``). ``parse_cron_section`` never raises: lines it
cannot read are noted in ``CronSnapshot.notes``.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from runbook.cron.entries import (
    CronTable,
    Problem,
    expand_run_parts,
    parse_anacrontab,
    parse_crontab,
    runs_as_part,
)

SECTION = "cron"
_HEADER = re.compile(r"^@@runbook:([A-Za-z0-9._-]+)@@$")
_DATA = re.compile(r"^[0-9a-f ]*$")
_KINDS = {"file", "denied", "dir", "exec", "noexec", "out", "flag"}


@dataclass(frozen=True)
class CronPaths:
    """Where the fragment looks; every path is quoted before it reaches the shell."""

    crontab: str = "/etc/crontab"
    cron_d: str = "/etc/cron.d"
    spools: tuple[str, ...] = ("/var/spool/cron/crontabs", "/var/spool/cron")
    run_parts: tuple[str, ...] = (
        "/etc/cron.hourly",
        "/etc/cron.daily",
        "/etc/cron.weekly",
        "/etc/cron.monthly",
    )
    anacrontab: str = "/etc/anacrontab"
    anacron_spool: str = "/var/spool/anacron"
    timezone: str = "/etc/timezone"
    sysconfig_clock: str = "/etc/sysconfig/clock"
    localtime: str = "/etc/localtime"
    proc_stat: str = "/proc/stat"
    debian_version: str = "/etc/debian_version"
    max_bytes: int = 262_144
    last_lines: int = 40


@dataclass(frozen=True)
class CronSnapshot:
    """What the fragment saw, decoded: files, listings, command outputs, flags."""

    files: dict[str, str] = field(default_factory=dict)
    denied: tuple[str, ...] = ()
    dirs: frozenset[str] = frozenset()
    parts: dict[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()


_FUNCTIONS = r"""rbc_hex() { od -An -v -tx1 | tr -d ' \n'; }
rbc_tag() { printf 'B %s %s\n' "$1" "$(printf '%s' "$2" | rbc_hex)"; }
rbc_out() { rbc_tag out "$1"; head -c {limit} | od -An -v -tx1; }
rbc_file() {
  if [ -f "$1" ] && [ -r "$1" ]; then rbc_tag file "$1"; head -c {limit} < "$1" | od -An -v -tx1
  elif [ -e "$1" ]; then rbc_tag denied "$1"; fi
}
rbc_dir() {
  if [ -d "$1" ]; then
    if [ -r "$1" ] && [ -x "$1" ]; then rbc_tag dir "$1"; else rbc_tag denied "$1"; fi
  fi
}
rbc_files() { rbc_dir "$1"; for rbc_f in "$1"/*; do [ -f "$rbc_f" ] && rbc_file "$rbc_f"; done; }
rbc_parts() {
  rbc_dir "$1"
  for rbc_f in "$1"/*; do
    [ -e "$rbc_f" ] || continue
    if [ -f "$rbc_f" ] && [ -x "$rbc_f" ]; then rbc_tag exec "$rbc_f"; else rbc_tag noexec "$rbc_f"; fi
  done
}
"""


def cron_fragment(paths: CronPaths | None = None) -> str:
    """The fragment's shell text (see the module docstring for its output)."""
    p = paths or CronPaths()
    q = shlex.quote
    lines = [
        "{",
        "printf '@@runbook:cron@@\\n'",
        _FUNCTIONS.replace("{limit}", str(int(p.max_bytes))).rstrip("\n"),
        f"rbc_file {q(p.crontab)}",
        f"rbc_files {q(p.cron_d)}",
        *(f"rbc_files {q(spool)}" for spool in p.spools),
        *(f"rbc_parts {q(directory)}" for directory in p.run_parts),
        f"rbc_file {q(p.anacrontab)}",
        f"rbc_files {q(p.anacron_spool)}",
        f"rbc_file {q(p.timezone)}",
        f"rbc_file {q(p.sysconfig_clock)}",
        f"if [ -L {q(p.localtime)} ]; then readlink {q(p.localtime)} | rbc_out localtime; fi",
        f"[ -r {q(p.debian_version)} ] && rbc_tag flag debian",
        f"sed -n 's/^btime //p' {q(p.proc_stat)} | rbc_out btime",
        "uptime -s | rbc_out uptime-s",
        f"last -x -F shutdown reboot | head -n {int(p.last_lines)} | rbc_out last",
        "date '+%s %z' | rbc_out date",
        "} 2>/dev/null",
    ]
    return "\n".join(lines) + "\n"


def parse_cron_section(text: str) -> CronSnapshot:
    """Decode the fragment's output (the section body, or output holding the section)."""
    files: dict[str, str] = {}
    outputs: dict[str, str] = {}
    parts: dict[str, list[tuple[str, bool]]] = {}
    denied: list[str] = []
    dirs: set[str] = set()
    flags: set[str] = set()
    notes: list[str] = []
    lines = text.split("\n")
    started = not any(_HEADER.match(line.strip()) for line in lines)
    current: tuple[str, str] | None = None
    chunks: list[str] = []

    def close() -> None:
        if current is None:
            return
        kind, name = current
        body = _decode("".join(chunks).replace(" ", ""), notes, name)
        if kind == "file":
            files[name] = body
        elif kind == "out":
            outputs[name] = body

    for number, raw in enumerate(lines, start=1):
        line = raw.strip("\r")
        header = _HEADER.match(line.strip())
        if header:
            if started:
                break
            started = header.group(1) == SECTION
            continue
        if not started:
            continue
        if line.startswith("B "):
            close()
            current, chunks = _tag(line, number, notes), []
            if current is not None:
                kind, name = current
                if kind == "denied":
                    denied.append(name)
                elif kind == "dir":
                    dirs.add(name.rstrip("/") or "/")
                elif kind in {"exec", "noexec"}:
                    directory, base = posixpath.split(name)
                    parts.setdefault(directory, []).append((base, kind == "exec"))
                elif kind == "flag":
                    flags.add(name)
        elif _DATA.match(line) and current is not None:
            chunks.append(line)
        elif line.strip():
            notes.append(f"line {number}: not part of a block: {line[:80]!r}")
    close()
    return CronSnapshot(
        files=files,
        denied=tuple(denied),
        dirs=frozenset(dirs),
        parts={directory: tuple(sorted(items)) for directory, items in parts.items()},
        outputs=outputs,
        flags=frozenset(flags),
        notes=tuple(notes),
    )


def host_zone(snapshot: CronSnapshot, paths: CronPaths | None = None) -> str | None:
    """The host's IANA zone: /etc/timezone, /etc/sysconfig/clock ZONE=, or the localtime link."""
    p = paths or CronPaths()
    candidates = [snapshot.files.get(p.timezone, "").strip().split("\n")[0].strip()]
    clock = re.search(r'^ZONE="?([^"\n]+)"?', snapshot.files.get(p.sysconfig_clock, ""), re.M)
    candidates.append(clock.group(1).strip() if clock else "")
    link = snapshot.outputs.get("localtime", "").strip()
    candidates.append(link.split("zoneinfo/", 1)[1] if "zoneinfo/" in link else "")
    for name in candidates:
        if name and _known_zone(name):
            return name
    return None


def anacron_stamps(snapshot: CronSnapshot, paths: CronPaths | None = None) -> dict[str, date]:
    """job-id -> the day anacron last ran it, from its spool's ``YYYYMMDD`` files."""
    spool = (paths or CronPaths()).anacron_spool.rstrip("/")
    stamps: dict[str, date] = {}
    for path, body in snapshot.files.items():
        directory, job = posixpath.split(path)
        text = body.strip()
        if directory == spool and len(text) == 8 and text.isdecimal() and text.isascii():
            try:
                stamps[job] = date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                continue
    return stamps


def read_schedule(snapshot: CronSnapshot, zone: str, paths: CronPaths | None = None) -> CronTable:
    """Every entry the host's cron and anacron would run, run-parts lines expanded."""
    p = paths or CronPaths()
    debian = "debian" in snapshot.flags
    spools = {spool.rstrip("/") for spool in p.spools}
    unread = tuple(Problem(path, 0, "not readable (probe as root)") for path in snapshot.denied)
    table = CronTable(problems=unread)
    for path in sorted(snapshot.files):
        text = snapshot.files[path]
        directory, name = posixpath.split(path)
        if path == p.crontab:
            table += parse_crontab(text, source=path, zone=zone)
        elif directory == p.cron_d.rstrip("/"):
            if runs_as_part(name, debian=debian):
                table += parse_crontab(text, source=path, zone=zone)
            else:
                table += CronTable(problems=(Problem(path, 0, "cron skips a file with this name"),))
        elif directory in spools:
            table += parse_crontab(text, source=path, zone=zone, user=name)
        elif path == p.anacrontab:
            table += parse_anacrontab(text, source=path, zone=zone)
    listings = {
        directory.rstrip("/"): tuple(
            name
            for name, executable in snapshot.parts.get(directory.rstrip("/"), ())
            if executable and runs_as_part(name, debian=debian)
        )
        for directory in p.run_parts
        if directory.rstrip("/") in snapshot.dirs
    }
    return CronTable(expand_run_parts(table.entries, listings), table.problems)


def _tag(line: str, number: int, notes: list[str]) -> tuple[str, str] | None:
    words = line.split(" ")
    if len(words) != 3 or words[1] not in _KINDS or not _DATA.match(words[2]):
        notes.append(f"line {number}: unknown tag {line[:80]!r}")
        return None
    return words[1], _decode(words[2], notes, words[1])


def _decode(hex_text: str, notes: list[str], name: str) -> str:
    try:
        return bytes.fromhex(hex_text).decode("utf-8", "replace")
    except ValueError:
        notes.append(f"{name}: damaged hex data")
        return ""


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return False
    return True
