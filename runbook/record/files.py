"""Record files: safe names and atomic writes.

A host's records are ``HOST-YYYYMMDDTHHMMSSZ.md`` and ``.json`` (the run's start in UTC),
a fleet's summary ``fleet-YYYYMMDDTHHMMSSZ.md``/``.json``. Every file is written to a
temporary file in the same folder, flushed, fsynced and renamed over the target, so a
crash leaves the old file or the new one, never half of one. The folder is fsynced after
the renames (once for all the records of a run), so they are on disk when the call returns.

A name already in the folder (another run's record from the same second, a planted file or
symlink) is never overwritten: the writer puts its first ``STEM.json`` in place with
``link(2)``, which fails when the name exists, and takes ``STEM-2``, ``STEM-3`` … when it is
taken. The name is claimed by the finished JSON itself, so a killed run leaves no empty file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from runbook.errors import RecordError
from runbook.record.fleet import fleet_json, fleet_record
from runbook.record.model import HostRecord, host_json, host_record
from runbook.record.render import render_fleet, render_host
from runbook.results import FleetRun, HostRun, StepResult
from runbook.settings import Settings

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 100
_Written = TypeVar("_Written")


def safe_name(name: str) -> str:
    """``name`` as one harmless file-name part: ``../../etc/x`` -> ``_.._etc_x``; never empty or hidden."""
    cleaned = _UNSAFE.sub("_", name).lstrip(".")[:MAX_NAME]
    return cleaned or "host"


def stamp(ts: float) -> str:
    """``YYYYMMDDTHHMMSSZ`` for an epoch time."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(ts))


def record_stem(host: str, started: float) -> str:
    """The record's file name without extension: ``HOST-YYYYMMDDTHHMMSSZ``."""
    return f"{safe_name(host)}-{stamp(started)}"


def journal_path(record_dir: Path, started: float) -> Path:
    """Where a run's journal goes: ``RECORD_DIR/run-YYYYMMDDTHHMMSSZ.jsonl``."""
    return Path(record_dir) / f"run-{stamp(started)}.jsonl"


def write_atomic(path: Path, content: str, *, sync_folder: bool = True, new: bool = False) -> None:
    """Replace ``path`` with ``content`` all at once (temp file, fsync, rename, fsync the folder).

    ``new=True`` links the finished file in instead and raises ``FileExistsError`` when
    ``path`` exists (also as a symlink). ``sync_folder=False`` leaves the folder's fsync to
    the caller (one for many files).
    """
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if new:
            os.link(temp, path, follow_symlinks=False)
            os.unlink(temp)
        else:
            os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    if sync_folder:
        _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_host_records(
    run: HostRun,
    settings: Settings,
    record_dir: Path | None = None,
    *,
    template_dir: Path | None = None,
    journal: Path | None = None,
    now: float | None = None,
    stem: str | None = None,
    sync_folder: bool = True,
) -> list[Path]:
    """Write one host's ``.md`` and ``.json`` records; return ``[md, json]``.

    The JSON goes first, so a template failure (``RecordError``) never loses the run.
    ``sync_folder=False``: the caller fsyncs the folder afterwards.
    """
    paths, _ = _write_host_files(
        run, settings, record_dir, template_dir, journal, now, stem=stem, sync_folder=sync_folder, new=False
    )
    return paths


def _write_host_files(
    run: HostRun,
    settings: Settings,
    record_dir: Path | None,
    template_dir: Path | None,
    journal: Path | None,
    now: float | None,
    *,
    stem: str | None,
    sync_folder: bool,
    new: bool,
    placed: Callable[[], None] | None = None,
) -> tuple[list[Path], HostRecord]:
    """``write_host_records``, also returning the record it wrote (a fleet's line reuses it).

    ``new``: the JSON must not exist yet (``FileExistsError``, nothing written, when it does).
    ``placed`` is called once the JSON is in place, before the Markdown is made.
    """
    folder = _folder(record_dir, settings)
    stem = stem or record_stem(run.host, run.started)
    json_path, md_path = folder / f"{stem}.json", folder / f"{stem}.md"
    when = time.time() if now is None else now
    journal_name = journal.name if journal is not None else None
    record = host_record(run, settings, now=when, json_name=json_path.name, journal_name=journal_name)
    write_atomic(
        json_path,
        _dumps(host_json(run, settings, journal_name=journal_name, record=record)),
        sync_folder=sync_folder,
        new=new,
    )
    if placed is not None:
        placed()
    markdown = render_host(run, settings, template_dir=template_dir, record=record)
    write_atomic(md_path, markdown, sync_folder=sync_folder)
    return [md_path, json_path], record


def write_fleet_records(
    fleet: FleetRun,
    settings: Settings,
    host_record_names: dict[str, str],
    record_dir: Path | None = None,
    *,
    template_dir: Path | None = None,
    now: float | None = None,
    stem: str | None = None,
    sync_folder: bool = True,
    host_records: Mapping[str, HostRecord] | None = None,
    new: bool = False,
) -> list[Path]:
    """Write a fleet's summary ``fleet-YYYYMMDDTHHMMSSZ.md`` and ``.json``; return ``[md, json]``.

    ``host_records``: the hosts' records already made (by host), so their lines reuse them.
    ``sync_folder=False``: the caller fsyncs the folder afterwards. ``new``: as for a host's
    JSON in ``_write_host_files``.
    """
    folder = _folder(record_dir, settings)
    stem = stem or f"fleet-{stamp(fleet.started or min((r.started for r in fleet.runs), default=0.0))}"
    json_path, md_path = folder / f"{stem}.json", folder / f"{stem}.md"
    when = time.time() if now is None else now
    record = fleet_record(fleet, settings, host_record_names, now=when, host_records=host_records)
    write_atomic(
        json_path,
        _dumps(fleet_json(fleet, settings, host_record_names, now=when, record=record)),
        sync_folder=sync_folder,
        new=new,
    )
    markdown = render_fleet(
        fleet, settings, host_record_names, template_dir=template_dir, now=when, record=record
    )
    write_atomic(md_path, markdown, sync_folder=sync_folder)
    return [md_path, json_path]


def write_records(
    run_or_fleet: HostRun | FleetRun,
    settings: Settings,
    record_dir: Path | None = None,
    *,
    template_dir: Path | None = None,
    journal: Path | None = None,
    now: float | None = None,
) -> list[Path]:
    """Write every host's records, and a fleet summary when there are 2+ hosts; return the paths.

    Names are made unique within the run (``web01-…Z.md``, ``web01-…Z-2.md``) so hosts whose
    names clean up alike never overwrite each other. The folder is fsynced once, after the
    last file (also when a template fails part of the way).
    """
    fleet = run_or_fleet if isinstance(run_or_fleet, FleetRun) else FleetRun([run_or_fleet])
    writer = RecordWriter(settings, record_dir, template_dir=template_dir, journal=journal, now=now)
    return writer.finish(fleet)


class RecordWriter:
    """``write_records`` as a run goes: a ``RunListener`` that writes each host's records when
    its run finishes, and ``finish(fleet)`` for the rest and the fleet summary.

    A fleet's records then do not all wait for its slowest host. A template failure on one
    host (its JSON is written first) is raised by ``finish`` after every other record is
    written; a host whose write failed otherwise is written again by ``finish``.
    """

    def __init__(
        self,
        settings: Settings,
        record_dir: Path | None = None,
        *,
        template_dir: Path | None = None,
        journal: Path | None = None,
        now: float | None = None,
    ) -> None:
        self.settings = settings
        self.record_dir = record_dir
        self.template_dir = template_dir
        self.journal = journal
        self.now = now
        self._lock = threading.Lock()
        self._taken: set[str] = set()
        self._stems: dict[int, str] = {}
        self._names: dict[str, str] = {}
        self._done: dict[int, list[Path]] = {}
        self._records: dict[str, HostRecord] = {}
        self._failed: list[RecordError] = []

    def host_started(self, run: HostRun) -> None:
        """Nothing to write yet."""

    def step_finished(self, run: HostRun, result: StepResult) -> None:
        """Nothing to write yet: the journal has the step."""

    def host_finished(self, run: HostRun) -> None:
        """Write ``run``'s records now; an I/O error leaves them to ``finish``."""
        try:
            self._write_host(run)
        except OSError:
            return

    def finish(self, fleet: FleetRun) -> list[Path]:
        """Write the records not written yet and, for 2+ hosts, the fleet summary; fsync the
        folder; return every path (hosts in fleet order, then the summary)."""
        folder = _folder(self.record_dir, self.settings)
        written: list[Path] = []
        try:
            for run in fleet.runs:
                written += self._done[id(run)] if id(run) in self._done else self._write_host(run)
            if self._failed:
                raise self._failed[0]
            if len(fleet.runs) > 1:
                first = f"fleet-{stamp(fleet.started or fleet.runs[0].started)}"
                written += self._first_free(
                    first,
                    folder,
                    lambda stem: write_fleet_records(
                        fleet,
                        self.settings,
                        dict(self._names),
                        folder,
                        template_dir=self.template_dir,
                        now=self._when(),
                        stem=stem,
                        sync_folder=False,
                        host_records=dict(self._records),
                        new=True,
                    ),
                )
        finally:
            _fsync_dir(folder)
        return written

    def _when(self) -> float:
        return time.time() if self.now is None else self.now

    def _first_free(self, first: str, folder: Path, write: Callable[[str], _Written]) -> _Written:
        """``write(stem)`` under the first free name from ``first`` on; the next name whenever
        another run took one between the check and the write (``FileExistsError``)."""
        while True:
            with self._lock:
                stem = _unique(first, self._taken, folder)
            try:
                return write(stem)
            except FileExistsError:
                continue
            except OSError:
                if not os.path.lexists(folder / f"{stem}.json"):
                    with self._lock:  # nothing was placed: a retry may have the name
                        self._taken.discard(stem.lower())
                raise

    def _host_files(self, run: HostRun, stem: str, *, new: bool) -> tuple[list[Path], HostRecord]:
        def placed() -> None:
            with self._lock:
                self._stems[id(run)] = stem

        return _write_host_files(
            run,
            self.settings,
            self.record_dir,
            self.template_dir,
            self.journal,
            self._when(),
            stem=stem,
            sync_folder=False,
            new=new,
            placed=placed,
        )

    def _write_host(self, run: HostRun) -> list[Path]:
        folder = _folder(self.record_dir, self.settings)
        with self._lock:
            stem = self._stems.get(id(run))
        try:
            if stem is not None:  # its JSON is in place: written again under it after an I/O error
                paths, record = self._host_files(run, stem, new=False)
            else:
                paths, record = self._first_free(
                    record_stem(run.host, run.started),
                    folder,
                    lambda free: self._host_files(run, free, new=True),
                )
        except RecordError as exc:
            with self._lock:
                self._failed.append(exc)
                self._done[id(run)] = []
            return []
        with self._lock:
            self._names[run.host] = paths[0].name
            self._records[run.host] = record
            self._done[id(run)] = paths
        return paths


def _folder(record_dir: Path | None, settings: Settings) -> Path:
    folder = Path(record_dir if record_dir is not None else settings.records.dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _unique(stem: str, taken: set[str], folder: Path) -> str:
    """``stem``, or ``stem-2`` …: the first not tried in this run whose files are free in ``folder``
    (neither ``.md`` nor ``.json`` exists, also as a symlink); it counts as tried from now on."""
    candidate, n = stem, 1
    while candidate.lower() in taken or any(
        os.path.lexists(folder / f"{candidate}{suffix}") for suffix in (".md", ".json")
    ):
        n += 1
        candidate = f"{stem}-{n}"
    taken.add(candidate.lower())
    return candidate


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
