"""``runbook pre-maint`` / ``invoke pre-maint``: a snapshot of each host before the maintenance.

The same host selection, parallelism, journal, verified connection and step timeout as
``post-maint``; one step, ``snapshot``, which only reads (the probe and the site checks). Each
host's snapshot is written as ``HOST-before-YYYYMMDDTHHMMSSZ.json`` and ``.md`` in the record
folder, where ``post-maint``'s ``compare`` step finds the newest.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from runbook.configuration import Sources, gather
from runbook.engine import Broadcast, FailurePolicy, run_fleet
from runbook.errors import SettingsError
from runbook.hosts import groups_of, select_hosts
from runbook.progress import progress_for
from runbook.record import Journal, journal_path
from runbook.record.redact import Redactor, redactor_for
from runbook.results import HostRun, Outcome, StepResult
from runbook.settings import Settings
from runbook.snapshot.files import write_snapshot
from runbook.steps.compare import snapshot

_HELP = {
    "host": "host, pattern ('web*') or @group to take a snapshot of (repeatable)",
    "hosts_file": "file of hosts, one per line (repeatable)",
    "ssh_config": "OpenSSH client config to read hosts from (e.g. .lab/ssh_config)",
    "url": "site URL to check from here and keep in the snapshot (repeatable)",
    "expect_text": "text the site's page must contain",
    "command": "command whose output post-maint compares as text (repeatable; adds to before_after.commands)",
    "record_dir": "where the snapshots go, beside the records (default: records/)",
    "parallel": "hosts at a time (default 10)",
    "fail_fast": "stop starting new hosts after the first host fails",
    "accept_new_host_keys": "record host keys never seen before (a changed key is always refused)",
    "user": "login user (over the ssh_config's User)",
    "identity": "private key file to log in with",
    "port": "SSH port",
}


def before_after_flags(before: str | None, restore: bool) -> dict[str, object] | None:
    """``post-maint``'s ``--before``/``--restore`` as a partial ``before_after`` setting."""
    given: dict[str, object] = {"before": before, "restore": True if restore else None}
    return {key: value for key, value in given.items() if value is not None} or None


class SnapshotFiles:
    """A run listener that writes each host's snapshot as soon as the host is done."""

    def __init__(self, folder: Path, redactor: Redactor) -> None:
        self.folder = folder
        self.redactor = redactor
        self.written: list[Path] = []
        self._lock = threading.Lock()

    def host_started(self, run: HostRun) -> None:
        pass

    def step_finished(self, run: HostRun, result: StepResult) -> None:
        if result.step == "snapshot" and result.outcome is Outcome.OK and "snapshot" in result.data:
            paths = write_snapshot(self.folder, result.data["snapshot"], self.redactor)
            with self._lock:
                self.written.extend(paths)

    def host_finished(self, run: HostRun) -> None:
        pass


@task(iterable=["host", "hosts_file", "url", "command"], help=_HELP, default=True, auto_shortflags=False)
def take(
    c: Context,
    host: list[str],
    hosts_file: list[str] | None = None,
    ssh_config: str | None = None,
    url: list[str] | None = None,
    expect_text: str | None = None,
    command: list[str] | None = None,
    record_dir: str | None = None,
    parallel: int | None = None,
    fail_fast: bool = False,
    accept_new_host_keys: bool = False,
    user: str | None = None,
    identity: str | None = None,
    port: int | None = None,
) -> None:
    """Take a snapshot of each host before the maintenance (read-only) for post-maint to compare with."""
    try:
        sources = gather(
            c.config,
            dict(
                ssh_config=ssh_config,
                urls=url or None,
                expect_text=expect_text,
                record_dir=record_dir,
                parallel=parallel,
                accept_new_host_keys=accept_new_host_keys or None,
                user=user,
                identity=identity,
                port=port,
            ),
        )
        settings = _with_commands(sources.settings(), command or [])
        for name, value in (("--ssh-config", settings.ssh.config), ("--identity", settings.ssh.identity)):
            if value and not Path(value).expanduser().is_file():
                raise SettingsError(f"{name} {value}: no such file; give an existing file")
        hosts = select_hosts(host, hosts_files=hosts_file or [], ssh_config=settings.ssh.config)
        per_host = _per_host(sources, hosts, settings, command or [])
    except (SettingsError, ValueError) as exc:
        raise Exit(f"runbook: {exc}", code=2) from None
    folder = Path(settings.records.dir)
    folder.mkdir(parents=True, exist_ok=True)
    journal_file = journal_path(folder, time.time())
    journal = Journal(journal_file)
    journal.run_started(hosts, settings)
    files = SnapshotFiles(folder, redactor_for(settings))
    progress = progress_for(sys.stdout, hosts, 1)
    try:
        fleet = run_fleet(
            hosts,
            settings,
            [snapshot],
            listener=Broadcast(journal, files, progress),
            policy=FailurePolicy(len(hosts), fail_fast=fail_fast),
            host_settings=lambda name: per_host.get(name, settings),
        )
    finally:
        journal.close()
        progress.close()
    for path in files.written:
        print(f"snapshot: {path}")
    for run in fleet.runs:
        if not run:
            said = run.error or "; ".join(r.message for r in run.results if r.failed)
            print(f"{run.host}: no snapshot: {said}")
    print(f"{len(fleet.succeeded)} of {len(fleet.runs)} host(s) have a snapshot; journal: {journal_file}")
    if not fleet:
        raise Exit(code=1)


def _with_commands(settings: Settings, commands: list[str]) -> Settings:
    """``settings`` with ``--command`` flags added to ``before_after.commands``."""
    if not commands:
        return settings
    ba = settings.before_after
    return replace(settings, before_after=replace(ba, commands=(*ba.commands, *commands)))


def _per_host(
    sources: Sources, hosts: list[str], settings: Settings, commands: list[str]
) -> dict[str, Settings]:
    """Each host's own settings where a ``for:`` entry names it (as ``post-maint``)."""
    if not sources.per_host:
        return {}
    members = groups_of(settings.ssh.config)
    return {name: _with_commands(sources.for_host(name, members), commands) for name in hosts}


pre_maint = Collection("pre-maint", take)
