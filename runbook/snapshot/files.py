"""Snapshot files: ``HOST-before-YYYYMMDDTHHMMSSZ.json`` (and ``.md``) beside the records.

Written like records (atomic, 0600, through ``write_atomic``, secrets masked by the records'
``Redactor``), and never over another: a second snapshot of the host in the same second is
``HOST-before-YYYYMMDDTHHMMSSZ-2.json``, and so on. ``load_snapshot`` checks the file's kind,
format and host and raises ``SnapshotError`` with a one-line reason; ``newest_snapshot`` finds a
host's latest.
"""

from __future__ import annotations

import glob
import itertools
import json
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from runbook.errors import RunbookError
from runbook.record.files import safe_name, stamp, write_atomic
from runbook.record.redact import Redactor
from runbook.snapshot.model import CronJob, HostState

KIND = "runbook-snapshot"
FORMAT = 2
"""1: no cron schedule (such snapshots still compare, without it); 2: ``cron``, the scheduled jobs."""


class SnapshotError(RunbookError):
    """A snapshot that cannot be compared with: missing, damaged, another host's, a newer format."""


@dataclass(frozen=True)
class Snapshot:
    """A host as ``pre-maint`` found it: its state, the operator's commands, site checks, the daemon,
    the cron schedule (``None``: not read, as in format 1)."""

    host: str
    hostname: str
    taken: float
    state: HostState
    commands: tuple[str, ...] = ()
    site: tuple[dict[str, Any], ...] = ()
    clock_offset: float | None = None
    daemon: dict[str, Any] | None = None
    cron: tuple[CronJob, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "format": FORMAT,
            "host": self.host,
            "hostname": self.hostname,
            "taken": self.taken,
            "taken_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.taken)),
            "commands": list(self.commands),
            "state": self.state.to_dict(),
            "site": list(self.site),
            "clock_offset": self.clock_offset,
            "daemon": self.daemon,
            "cron": None if self.cron is None else [asdict(job) for job in self.cron],
        }


def snapshot_path(folder: Path, host: str, taken: float, n: int = 1) -> Path:
    """The name of ``host``'s ``n``-th snapshot taken in the second of ``taken``."""
    suffix = "" if n == 1 else f"-{n}"
    return Path(folder) / f"{safe_name(host)}-before-{stamp(taken)}{suffix}.json"


def write_snapshot(folder: Path, data: dict[str, Any], redactor: Redactor) -> list[Path]:
    """Write a snapshot (``Snapshot.to_dict``'s shape) as ``.json`` and a short ``.md`` view, secrets
    masked as in the records, under the first free name; return both paths."""
    data = redactor.value(data)
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    for n in itertools.count(1):
        json_path = snapshot_path(folder, str(data["host"]), float(data["taken"]), n)
        try:
            write_atomic(json_path, text, sync_folder=False, new=True)
        except FileExistsError:
            continue
        break
    md_path = json_path.with_suffix(".md")
    write_atomic(md_path, markdown(data, json_path.name))
    return [json_path, md_path]


def newest_snapshot(folder: Path, host: str) -> Path | None:
    """``host``'s newest snapshot in ``folder``: the latest stamp, then the highest ``-N``.

    Only names of exactly this host's snapshots count (host ``db``'s are not ``db-before-x``'s).
    """
    name = re.compile(rf"{re.escape(safe_name(host))}-before-(\d{{8}}T\d{{6}}Z)(?:-(\d+))?\.json")
    found = []
    for path in Path(folder).glob(f"{glob.escape(safe_name(host))}-before-*.json"):
        matched = name.fullmatch(path.name)
        if matched:
            found.append((matched[1], int(matched[2] or 1), path))
    return max(found)[2] if found else None


def load_snapshot(path: Path, host: str) -> Snapshot:
    """The snapshot in ``path``, taken of ``host``; ``SnapshotError`` (one line) when it cannot serve."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SnapshotError(f"snapshot {path} cannot be read ({exc.strerror}): compare skipped") from None
    except ValueError as exc:
        raise SnapshotError(
            f"snapshot {path} is damaged (not JSON: {exc}); take a new one with pre-maint"
        ) from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise SnapshotError(f"{path} is not a runbook snapshot; take one with pre-maint")
    version = data.get("format")
    if not isinstance(version, int) or version > FORMAT:
        raise SnapshotError(
            f"snapshot {path} has format {version!r}, newer than this runbook reads ({FORMAT}): "
            "upgrade runbook"
        )
    if data.get("host") != host:
        raise SnapshotError(
            f"snapshot {path} is of host {data.get('host')!r}, not {host}: give this host's (--before)"
        )
    try:
        return Snapshot(
            host=str(data["host"]),
            hostname=str(data["hostname"]),
            taken=float(data["taken"]),
            state=HostState.from_dict(data["state"]),
            commands=tuple(str(c) for c in data.get("commands", ())),
            site=tuple(dict(check) for check in data.get("site", ())),
            clock_offset=data.get("clock_offset"),
            daemon=data.get("daemon"),
            cron=_cron(data.get("cron")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SnapshotError(
            f"snapshot {path} is damaged ({type(exc).__name__}: {exc}); take a new one with pre-maint"
        ) from None


def _cron(value: Any) -> tuple[CronJob, ...] | None:
    """The ``cron`` key: ``None`` (format 1, or not read) or a list of jobs."""
    return None if value is None else tuple(CronJob(**dict(job)) for job in value)


def markdown(data: dict[str, Any], json_name: str) -> str:
    """A short Markdown view of a snapshot's JSON shape."""
    state = data["state"]
    running = sorted(name for name, s in state["services"].items() if s["running"])
    enabled = sorted(name for name, s in state["services"].items() if s["enabled"])
    sockets = [
        f"{s['proto']} {s['address']}:{s['port']}" + (f" ({s['program']})" if s["program"] else "")
        for s in state["sockets"]
    ]
    mounts = [f"{m['target']} ({m['fstype']}, {'ro' if m['readonly'] else 'rw'})" for m in state["mounts"]]
    site = [f"{check['url']} {check.get('status')}" for check in data["site"]]
    lines = [
        f"# Snapshot of {data['host']} before the maintenance",
        "",
        f"- **Taken:** {data['taken_utc']} (host name {data['hostname']})",
        f"- **Kernel:** {state['kernel'] or 'unknown'}; boot id {state['boot_id'] or 'unknown'}",
        f"- **Clock:** {_offset(data['clock_offset'])}; time daemon {_daemon(data['daemon'])}",
        f"- **Running ({len(running)}):** {', '.join(running) or 'none'}",
        f"- **Enabled at boot ({len(enabled)}):** {', '.join(enabled) or 'none'}",
        f"- **Listening ({len(sockets)}):** {', '.join(sockets) or 'none'}",
        f"- **Mounts ({len(mounts)}):** {', '.join(mounts) or 'none'}",
        f"- **Site:** {', '.join(site) or 'not checked'}",
        f"- **Operator commands:** {len(data['commands'])}",
        *_cron_lines(data.get("cron")),
        "",
        f"<sub>Compared by post-maint's compare step · {json_name}</sub>",
        "",
    ]
    return "\n".join(lines)


def _cron_lines(jobs: list[dict[str, Any]] | None) -> list[str]:
    if jobs is None:
        return ["- **Cron schedule:** not read"]
    head = f"- **Cron schedule ({len(jobs)}):**" + ("" if jobs else " none")
    return [
        head,
        *(
            f"  - {_code(job['schedule'])} {job['user']}: {_code(job['command'])} ({job['source']})"
            for job in jobs
        ),
    ]


def _code(text: str) -> str:
    """``text`` as Markdown inline code, whatever backticks it holds."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _offset(offset: float | None) -> str:
    return "not read" if offset is None else f"host minus controller {offset:+.3f} s"


def _daemon(daemon: dict[str, Any] | None) -> str:
    if not daemon:
        return "none found"
    return f"{daemon['service']} {'running' if daemon['running'] else 'not running'}"
