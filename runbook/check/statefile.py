"""The maintenance detector: what each host looked like at the last check, kept in a file.

For each host the file keeps its boot id, its boot time (``btime``, by its own clock), its
offset and when it was checked. A host whose boot id changed was rebooted. A host whose
*true* boot time (its btime corrected by its offset: true = host clock + offset) moved later
by more than ``jump`` seconds lost that much time without its boot clock seeing it: it was
suspended (a paused VM), or rebooted. Stepping or slewing the clock moves btime and the
offset by the same amount in opposite directions, so a fix never looks like a suspension.
Without a btime, an offset that grew by more than ``jump`` counts instead.

A detection is kept in the file and repeated for ``hold`` seconds, so that an engine's
retries see it too. The file is JSON, rewritten atomically (a temporary file in the same
directory, fsynced, then renamed) under an exclusive lock, so concurrent checks sharing it
lose nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from runbook.errors import StateFileError

MAINTENANCE = "host rebooted or was suspended since the last check: run post-maint"
"""The warning's text (the reason follows in parentheses)."""

VERSION = 1


@dataclass(frozen=True)
class Seen:
    """A host at its last check (epoch seconds; ``detected``: the reason of a detection being held)."""

    checked_at: float
    offset: float
    boot_id: str | None = None
    boot_time: float | None = None
    detected: str | None = None
    detected_at: float | None = None

    @property
    def true_boot(self) -> float | None:
        return None if self.boot_time is None else self.boot_time + self.offset


def detect(before: Seen | None, now: Seen, jump: float) -> str | None:
    """Why ``now`` says the host was rebooted or suspended since ``before`` (``None``: it was not)."""
    if before is None:
        return None
    if before.boot_id and now.boot_id and before.boot_id != now.boot_id:
        return "boot id changed"
    if before.true_boot is not None and now.true_boot is not None:
        lost = now.true_boot - before.true_boot
        if lost > jump:
            return f"the clock lost {lost:,.1f} s that its boot clock did not count"
        return None
    grew = now.offset - before.offset
    if grew > jump:
        return f"the clock fell {grew:,.1f} s further behind"
    return None


def update(before: Seen | None, now: Seen, jump: float, hold: float) -> Seen:
    """``now`` with a new detection, or the one held from ``before`` while younger than ``hold``."""
    reason = detect(before, now, jump)
    if reason is not None:
        return Seen(**{**asdict(now), "detected": reason, "detected_at": now.checked_at})
    if before is None or before.detected is None or before.detected_at is None:
        return now
    if now.checked_at - before.detected_at < hold:
        return Seen(**{**asdict(now), "detected": before.detected, "detected_at": before.detected_at})
    return now


@contextlib.contextmanager
def locked(path: Path) -> Iterator[dict[str, Seen]]:
    """The file's entries, under an exclusive lock; what the caller leaves in the dict is written back."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = lock_path.open("a")
    except OSError as exc:
        raise StateFileError(
            f"state file {path}: cannot lock it ({exc.strerror}): check its directory"
        ) from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        entries = load(path)
        yield entries
        save(path, entries)


def load(path: Path) -> dict[str, Seen]:
    """The file's entries by host; none when it does not exist yet."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise StateFileError(
            f"state file {path} is unreadable ({exc}): move it away to start afresh"
        ) from None
    hosts = data.get("hosts") if isinstance(data, dict) else None
    if not isinstance(hosts, dict):
        raise StateFileError(f"state file {path} has no hosts map: move it away to start afresh")
    return {str(name): seen for name, raw in hosts.items() if (seen := _seen(raw)) is not None}


def save(path: Path, entries: dict[str, Seen]) -> None:
    """Write ``entries`` atomically: a temporary file beside ``path``, fsynced, renamed over it."""
    document = {"version": VERSION, "hosts": {name: asdict(seen) for name, seen in sorted(entries.items())}}
    try:
        fd, staged = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=2)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(staged, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(staged)
            raise
    except OSError as exc:
        raise StateFileError(
            f"state file {path}: cannot write it ({exc.strerror}): check its directory"
        ) from None


def _seen(raw: Any) -> Seen | None:
    """An entry, or ``None`` when it lacks the numbers a comparison needs."""
    if not isinstance(raw, dict):
        return None
    known = {f.name for f in fields(Seen)}
    values = {k: v for k, v in raw.items() if k in known}
    try:
        seen = Seen(**values)
        float(seen.checked_at), float(seen.offset)
    except (TypeError, ValueError):
        return None
    return seen
