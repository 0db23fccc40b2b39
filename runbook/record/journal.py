"""The journal: one JSON line per event, written as it happens, so a crash never loses a run.

One journal per run of ``post-maint`` (one host or a fleet), shared by the worker threads.
Each line is ``{"v": 1, "event": E, "time": EPOCH, ...}`` with E one of:

- ``run_started``: ``hosts`` (in order), ``settings`` (operator, timezone, window, dry_run, lang, details)
- ``host_started``: ``host``, ``started``, ``facts``
- ``step_finished``: ``host``, ``result`` (``StepResult.to_dict()``)
- ``host_finished``: ``host``, ``finished``, ``error``, ``interrupted``, ``facts``, ``connections``

Secrets are masked (``runbook.record.redact``) before a line is written: the built-in patterns,
and from ``run_started`` on the ``redact:`` setting's and the sudo password.
A journal is always a new file (``O_EXCL``, ``O_NOFOLLOW``): ``Journal.create`` names it for
the run's start and adds ``-2``, ``-3`` … when another run in the same second (or a planted
file or symlink) has the name, so two runs never share a journal. Every line is written
whole under a lock (a short write is continued) and fsynced before ``write`` returns; after a
write that failed part of the way, the next line starts on a fresh line, so it is not glued
to the torn one and lost.
Writers share fsyncs: one that finds an fsync begun after its line was written counts on it
(group commit), so threads finishing steps at once do not each wait for the disk.
``load_journal`` rebuilds a ``FleetRun``: hosts without ``host_finished`` are marked
interrupted, and a torn line (the process died or the disk filled mid-write) is ignored.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from runbook.errors import RecordError
from runbook.record.files import journal_path
from runbook.record.redact import Redactor, redactor_for
from runbook.results import FleetRun, HostRun, StepResult
from runbook.settings import Settings, Window

VERSION = 1
_LINE_START = b'{"v": '
_NEW_FILE = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class JournalExists(RecordError):
    """The journal's name is taken (a file or a symlink): a journal is never appended to."""


class Journal:
    """An append-only, fsynced JSON-lines journal, safe to share between threads.

    It is an engine ``RunListener`` (``host_started``, ``step_finished``, ``host_finished``);
    call ``run_started`` first so a record rendered later knows the operator, zone and window.
    """

    def __init__(self, path: Path, redactor: Redactor | None = None) -> None:
        self.path = Path(path)
        self.redactor = redactor or Redactor()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._written = 0
        self._synced = 0
        self._torn = False
        try:
            self._fd: int | None = os.open(self.path, _NEW_FILE, 0o600)
        except FileExistsError:
            raise JournalExists(
                f"journal {self.path} already exists (or is a symlink): not writing into it"
            ) from None

    @classmethod
    def create(cls, record_dir: Path, started: float) -> Journal:
        """A new journal in ``record_dir``: ``run-…Z.jsonl``, else ``run-…Z-2.jsonl`` and so on."""
        first = journal_path(record_dir, started)
        for number in itertools.count(1):
            path = first if number == 1 else first.with_name(f"{first.stem}-{number}{first.suffix}")
            try:
                return cls(path)
            except JournalExists:
                continue
        raise AssertionError("unreachable")

    def run_started(self, hosts: Sequence[str], settings: Settings) -> None:
        self.redactor = redactor_for(settings)
        window = settings.window
        self.write(
            "run_started",
            hosts=list(hosts),
            settings={
                "operator": settings.records.operator,
                "timezone": settings.records.timezone,
                "dry_run": settings.dry_run,
                "lang": settings.records.lang,
                "details": settings.records.details,
                "window": [window.start.isoformat(), window.end.isoformat(), window.source]
                if window
                else None,
            },
        )

    def host_started(self, run: HostRun) -> None:
        self.write("host_started", host=run.host, started=run.started, facts=self.redactor.value(run.facts))

    def step_finished(self, run: HostRun, result: StepResult) -> None:
        self.write("step_finished", host=run.host, result=self.redactor.result(result).to_dict())

    def host_finished(self, run: HostRun) -> None:
        self.write(
            "host_finished",
            host=run.host,
            finished=run.finished,
            error=None if run.error is None else self.redactor.text(run.error),
            interrupted=run.interrupted,
            facts=self.redactor.value(run.facts),
            connections=run.connections,
        )

    def write(self, event: str, **fields: Any) -> None:
        """Append one event line now (flushed and fsynced before returning)."""
        line = json.dumps({"v": VERSION, "event": event, "time": time.time(), **fields}, ensure_ascii=False)
        data = (line + "\n").encode("utf-8")
        with self._lock:
            if self._fd is None:
                raise RecordError(f"journal {self.path} is closed")
            self._append(self._fd, b"\n" + data if self._torn else data)
            self._written += 1
            line_number = self._written
        self._sync(line_number)

    def _append(self, fd: int, data: bytes) -> None:
        """Write all of ``data``; after a failed write the line may be torn: the next starts afresh
        (at worst an empty line, which readers skip)."""
        left = memoryview(data)
        try:
            while left:
                left = left[os.write(fd, left) :]
        except OSError:
            self._torn = True
            raise
        self._torn = False

    def _sync(self, line_number: int) -> None:
        """Return once line ``line_number`` is on disk: fsync, unless a later fsync already covered it."""
        with self._sync_lock:
            if self._synced >= line_number:
                return
            with self._lock:
                fd, written = self._fd, self._written
            if fd is not None:  # else close() fsynced it
                os.fsync(fd)
                self._synced = written

    def close(self) -> None:
        with self._sync_lock, self._lock:
            if self._fd is not None:
                if self._synced < self._written:
                    os.fsync(self._fd)
                    self._synced = self._written
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_events(path: Path) -> list[dict[str, Any]]:
    """The journal's events; torn lines (the last, or one begun as an event) are dropped, another
    bad line is a ``RecordError``."""
    try:
        lines = Path(path).read_bytes().split(b"\n")
    except OSError as exc:
        raise RecordError(f"cannot read journal {path}: {exc.strerror or exc}") from exc
    events: list[dict[str, Any]] = []
    last = max((n for n, line in enumerate(lines) if line.strip()), default=-1)
    for number, raw in enumerate(lines):
        if not raw.strip():
            continue
        try:
            event = json.loads(raw.decode("utf-8"))
            if not isinstance(event, dict) or "event" not in event:
                raise ValueError("not a journal event")
        except ValueError as exc:
            if number == last or raw.startswith(_LINE_START):
                continue
            raise RecordError(f"journal {path}, line {number + 1}: {exc}") from exc
        events.append(event)
    return events


def load_journal(path: Path) -> FleetRun:
    """Rebuild the run from a journal; hosts that never finished come back ``interrupted``."""
    runs: dict[str, HostRun] = {}
    done: set[str] = set()
    fleet = FleetRun()
    for event in read_events(path):
        kind, when = event["event"], float(event.get("time", 0.0))
        fleet.started = fleet.started or when
        fleet.finished = max(fleet.finished, when)
        if kind == "run_started":
            for host in event.get("hosts", []):
                runs.setdefault(host, HostRun(host=host))
            continue
        host = event.get("host")
        if not isinstance(host, str):
            continue
        run = runs.setdefault(host, HostRun(host=host))
        if kind == "host_started":
            run.started = event.get("started") or when
            run.facts.update(event.get("facts") or {})
        elif kind == "step_finished":
            run.results.append(StepResult.from_dict(event["result"]))
            run.finished = when
        elif kind == "host_finished":
            done.add(host)
            run.finished = event.get("finished") or when
            run.error = event.get("error")
            run.interrupted = bool(event.get("interrupted"))
            run.facts.update(event.get("facts") or {})
            run.connections = event.get("connections", 0)
    for host, run in runs.items():
        if host not in done:
            run.interrupted = True
            run.finished = 0.0
            run.started = run.started or fleet.started
            fleet.finished = 0.0
    fleet.runs = list(runs.values())
    return fleet


def journal_settings(path: Path, settings: Settings) -> Settings:
    """``settings`` with the operator, time zone, window and dry run the journaled run used."""
    for event in read_events(path):
        if event["event"] == "run_started":
            saved = event.get("settings") or {}
            window = saved.get("window")
            records = replace(
                settings.records,
                operator=saved.get("operator", settings.records.operator),
                timezone=saved.get("timezone", settings.records.timezone),
                lang=saved.get("lang", settings.records.lang),
                details=saved.get("details", settings.records.details),
            )
            return replace(
                settings,
                records=records,
                dry_run=bool(saved.get("dry_run", settings.dry_run)),
                window=_window(window) if window else settings.window,
            )
    return settings


def _window(saved: list[str]) -> Window:
    start, end, source = saved
    return Window(datetime.fromisoformat(start), datetime.fromisoformat(end), source)
