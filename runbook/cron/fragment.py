"""The probe fragment that reads a host's cron setup, and its pure parser.

``fragment.sh`` is POSIX sh (dash, bash, BusyBox ash) that changes nothing on the host; its
arguments (``cron_arguments(paths)``) say where to look. The processes it starts do not grow
with the number of files: ``wc -c`` over every readable file, one ``od`` over those not larger
than ``max_bytes``, ``wc -c`` again, ``readlink`` for a linked /etc/localtime, ``date`` (bash
prints the time itself), ``uptime -s`` only without a btime, and ``last`` only when the boot is younger than
``window.HORIZON`` (``infer_window`` ignores shutdown records before an older boot). A file
whose name is not a plain absolute path (a blank, a newline, non-ASCII, ...) gets its own
``wc``/``od``/``wc`` on stdin. The rest is builtins: tests, globbing, name encoding, btime.

It prints the line ``@@runbook:cron@@`` and then lines of four shapes:

- ``T KIND NAME [FIELD]``: a tag, NAME as is (only plain names: ``[0-9A-Za-z._+,:=@%~/-]+``);
  ``B KIND HEX [FIELD]``: the same with NAME hex-encoded;
- `` 6a 6f 62``: hex data (``od -An -v -tx1``);
- ``| TEXT``: one line of the current ``out`` block (a command's output, never a file's);
- ``S SIZE...``: the sizes of the preceding files read again after ``od`` (``-``: unreadable).

Kinds: ``file PATH SIZE`` (a file's contents are the next SIZE bytes of the data that follows
the run of file tags; ``big`` and ``gone`` tags may be among them; the run ends with its
``S`` line), ``file PATH`` (the data lines after it are the file's contents), ``big PATH
SIZE`` (larger than ``max_bytes``: not read), ``gone PATH`` (unreadable by the time it was
read), ``denied PATH`` (exists, not readable), ``dir PATH`` (a listed directory), ``exec
PATH`` / ``noexec PATH`` (an entry of a run-parts directory), ``out NAME`` (text:
``btime``, ``uptime-s``, ``last``, ``localtime``, ``date``) and ``flag NAME`` (``debian``, ``cron-running``).

Contents reach the output as hex, and names as hex unless plain, so no content or name (a
line ``@@runbook:date@@``, a form feed, a fake tag) can end or forge a block. The one
exception is the probe's ``jobs`` scope on an old boot (what ``compare`` needs, read with no
process at all): each file is a size-less ``file PATH`` tag and its lines as ``| TEXT`` lines
(at most ``max_bytes / 64`` of them, then a ``cut PATH LINES`` tag if the file goes on; a last
line without a newline gets one), which no content can end either, since every line of it
starts with ``|``. Otherwise the boundaries
between files come from the sizes ``wc`` gave before ``od`` ran. A file whose
size changed by the time it was read again is not used, nor are the files its bytes may
have shifted; ``parse_cron_section`` says so in ``CronSnapshot.notes``, as it does for
every file it skipped and every line it cannot read. It never raises.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from runbook import shell
from runbook.cron.entries import (
    CronTable,
    Problem,
    expand_run_parts,
    parse_anacrontab,
    parse_crontab,
    runs_as_part,
)
from runbook.cron.window import HORIZON

SECTION = "cron"
_HEADER = re.compile(r"^@@runbook:([A-Za-z0-9._-]+)@@$")
_DATA = re.compile(r"^[0-9a-f ]*$")
_FIELDS = {
    "file": (0, 1),
    "big": (1,),
    "cut": (1,),
    "gone": (0,),
    "denied": (0,),
    "dir": (0,),
    "exec": (0,),
    "noexec": (0,),
    "out": (0,),
    "flag": (0,),
}
"""Tag kind -> how many fields may follow its name."""


@dataclass(frozen=True)
class CronPaths:
    """Where the fragment looks; every path reaches the shell as an argument."""

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


def cron_script() -> str:
    """The fragment's shell text, ``fragment.sh`` (see the module docstring for its output)."""
    return shell.read(__package__ or "runbook.cron", "fragment.sh")


def cron_arguments(paths: CronPaths | None = None) -> tuple[str, ...]:
    """The fragment's arguments: limits, then the files and directories it reads, in order."""
    p = paths or CronPaths()
    read = [
        ("file", p.crontab),
        ("files", p.cron_d),
        *(("files", spool) for spool in p.spools),
        *(("parts", directory) for directory in p.run_parts),
        ("file", p.anacrontab),
        ("files", p.anacron_spool),
        ("file", p.timezone),
        ("file", p.sysconfig_clock),
    ]
    limits = (str(int(p.max_bytes)), str(int(HORIZON)), str(int(p.last_lines)))
    return (*limits, p.proc_stat, p.localtime, p.debian_version, *(word for pair in read for word in pair))


def cron_command(paths: CronPaths | None = None) -> str:
    """The fragment as one command (``sh -c``), its arguments quoted."""
    return shell.command(cron_script(), cron_arguments(paths))


def parse_cron_section(text: str) -> CronSnapshot:
    """Decode the fragment's output (the section body, or output holding the section)."""
    reader = _Reader()
    lines = text.split("\n")
    started = not any(_HEADER.match(line.strip()) for line in lines)
    for number, raw in enumerate(lines, start=1):
        line = raw.strip("\r")
        header = _HEADER.match(line.strip())
        if header:
            if started:
                break
            started = header.group(1) == SECTION
        elif started:
            reader.read(number, line)
    return reader.snapshot()


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


class _Reader:
    """The state of ``parse_cron_section``: what was decoded, the open block, the pending run."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.outputs: dict[str, str] = {}
        self.parts: dict[str, list[tuple[str, bool]]] = {}
        self.denied: list[str] = []
        self.dirs: set[str] = set()
        self.flags: set[str] = set()
        self.notes: list[str] = []
        self.block: tuple[str, str, list[bytes]] | None = None
        """An ``out`` or size-less ``file`` block: kind, name, its bytes so far."""
        self.run: list[tuple[str, int]] = []
        """Sized files whose bytes are the data lines after their tags."""
        self.data: list[str] = []

    def read(self, number: int, line: str) -> None:
        """One line of the section."""
        if line.startswith(("T ", "B ")):
            self.tag(number, line)
        elif line.startswith("|"):
            if self.block is None:
                self.notes.append(f"line {number}: text outside an out block: {line[:80]!r}")
            else:
                self.block[2].append(line[2:].encode() + b"\n")
        elif line.startswith("S "):
            self.sizes(number, line.split(" ")[1:])
        elif _DATA.match(line) and (self.block is not None or self.run):
            if self.block is not None:
                self.block[2].append(_hex(line, self.notes, self.block[1]))
            else:
                self.data.append(line)
        elif line.strip():
            self.notes.append(f"line {number}: not part of a block: {line[:80]!r}")

    def tag(self, number: int, line: str) -> None:
        self.close()
        words = line.split(" ")
        kind = words[1]
        extra = words[3:]
        if (
            len(words) < 3
            or not words[2]
            or len(extra) not in _FIELDS.get(kind, ())
            or not all(word.isdecimal() and word.isascii() for word in extra)
        ):
            self.notes.append(f"line {number}: unknown tag {line[:80]!r}")
            return
        name = words[2]
        if words[0] == "B":
            encoded = _hex(name, self.notes, f"line {number}: {kind} name")
            if not encoded:
                return
            name = encoded.decode("utf-8", "replace")
        if kind == "big":
            self.notes.append(f"{name}: not read: {extra[0]} bytes, more than max_bytes")
        elif kind == "cut":
            self.notes.append(f"{name}: only its first {extra[0]} lines read (max_bytes / 64), not the rest")
        elif kind == "gone":
            self.notes.append(f"{name}: vanished or became unreadable while the probe ran")
        elif kind == "file" and extra:
            if self.data:
                self.flush(None)
            self.run.append((name, int(extra[0])))
        else:
            self.flush(None)
            self.other(kind, name)

    def other(self, kind: str, name: str) -> None:
        """A tag outside a run of sized files."""
        if kind in {"file", "out"}:
            self.block = (kind, name, [])
        elif kind == "denied":
            self.denied.append(name)
        elif kind == "dir":
            self.dirs.add(name.rstrip("/") or "/")
        elif kind in {"exec", "noexec"}:
            directory, base = posixpath.split(name)
            self.parts.setdefault(directory, []).append((base, kind == "exec"))
        else:
            self.flags.add(name)

    def sizes(self, number: int, words: list[str]) -> None:
        """An ``S`` line: the run's sizes read again after ``od``."""
        if not self.run or len(words) != len(self.run):
            self.notes.append(f"line {number}: {len(words)} sizes for {len(self.run)} files")
            self.flush([None] * len(self.run))
            return
        self.flush([int(word) if word.isdecimal() and word.isascii() else None for word in words])

    def flush(self, after: list[int | None] | None) -> None:
        """Cut the pending run's data into its files (``after``: sizes read again, if any)."""
        if not self.run:
            return
        data = _hex("".join(self.data), self.notes, "file data")
        placed, unplaced = _place(self.run, data, after or [size for _, size in self.run])
        self.files.update((name, body.decode("utf-8", "replace")) for name, body in placed.items())
        self.notes.extend(f"{name}: changed while the probe read it: not used" for name in unplaced)
        self.run, self.data = [], []

    def close(self) -> None:
        """End the open block, if any."""
        if self.block is not None:
            kind, name, pieces = self.block
            target = self.files if kind == "file" else self.outputs
            target[name] = b"".join(pieces).decode("utf-8", "replace")
            self.block = None

    def snapshot(self) -> CronSnapshot:
        self.close()
        self.flush(None)
        return CronSnapshot(
            files=self.files,
            denied=tuple(self.denied),
            dirs=frozenset(self.dirs),
            parts={directory: tuple(sorted(items)) for directory, items in self.parts.items()},
            outputs=self.outputs,
            flags=frozenset(self.flags),
            notes=tuple(self.notes),
        )


def _place(
    run: list[tuple[str, int]], data: bytes, after: list[int | None]
) -> tuple[dict[str, bytes], list[str]]:
    """Cut ``data``, the run's files concatenated, at the sizes read before it.

    A file whose size read ``after`` differs changed while read: the files before the first
    and after the last such file are cut exactly (from the start and from the end), those
    from the first to the last are unplaced. When no size changed but the total differs,
    every file is unplaced. Returns ``(name -> bytes, unplaced names)``.
    """
    sizes = [size for _, size in run]
    changed = [i for i, (size, again) in enumerate(zip(sizes, after, strict=True)) if size != again]
    first, last = (changed[0], changed[-1]) if changed else (len(run), len(run) - 1)
    head, tail = sum(sizes[:first]), sum(sizes[last + 1 :])
    if head + tail > len(data) or (not changed and head != len(data)):
        first, last = 0, len(run) - 1
    placed: dict[str, bytes] = {}
    start = 0
    for name, size in run[:first]:
        placed[name] = data[start : start + size]
        start += size
    end = len(data)
    for name, size in reversed(run[last + 1 :]):
        placed[name] = data[end - size : end]
        end -= size
    return placed, [name for name, _ in run[first : last + 1]]


def _hex(text: str, notes: list[str], name: str) -> bytes:
    try:
        return bytes.fromhex(text.replace(" ", ""))
    except ValueError:
        notes.append(f"{name}: damaged hex data")
        return b""


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return False
    return True
