"""The command line: ``invoke post-maint`` (via tasks.py) and the ``runbook`` console script.

Both are the same Invoke collection. Flags override the ``runbook:`` section of the Invoke
config (``invoke.yaml``, or ``invoke -f FILE`` such as the lab's ``.lab/runbook.yaml``).
Everything a flag or file gets wrong is reported before anything runs on a host.
"""

from __future__ import annotations

import getpass
import sys
import time
from pathlib import Path
from typing import Any

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.program import Program
from invoke.tasks import task

from runbook import __version__
from runbook.engine import Broadcast, FailurePolicy, FleetInterrupted, default_steps, run_fleet
from runbook.hosts import failed_hosts, select_hosts
from runbook.progress import progress_for
from runbook.record import (
    Journal,
    RecordError,
    RecordWriter,
    check_templates,
    journal_settings,
    load_journal,
)
from runbook.results import FleetRun
from runbook.settings import Settings, SettingsError, settings_for

_FLAG_HELP = {
    "host": "host, pattern ('web*') or @group to run on (repeatable); looked up in --ssh-config",
    "hosts_file": "file of hosts, one per line (patterns and @groups allowed, # comments; repeatable)",
    "fail_fast": "stop starting new hosts after the first host fails (those are recorded as not run)",
    "max_fail_percent": "stop starting new hosts once more than this percentage of the fleet failed",
    "rerun_failed": "run only the hosts that failed in an earlier run (its fleet-*.json or run-*.jsonl)",
    "ssh_config": "OpenSSH client config to read hosts from (e.g. .lab/ssh_config)",
    "ntp_server": "NTP server to use as reference and for one-shot syncs (repeatable; first answering wins)",
    "backup": "backup command to rerun when its last run was missed",
    "backup_evidence": "file the backup writes its finish time into (epoch seconds or ISO 8601)",
    "backup_check": "command that exits 0 when the backup is fresh",
    "url": "site URL to check from here (repeatable; {host} and {address} are filled in)",
    "expect_text": "text the site's page must contain",
    "max_offset": "largest clock offset accepted after the fix (seconds or 500ms, 2s ...; default 0.5)",
    "dry_run": "read the hosts and say what would change; change nothing",
    "record_dir": "where the records go (default: records/)",
    "window": "maintenance window START..END with a zone, e.g. '2017-08-22 02:00..05:00 Asia/Tokyo'",
    "timezone": "time zone for the record besides UTC (e.g. Asia/Tokyo)",
    "parallel": "hosts at a time (default 10)",
    "keep_going": "run every step even after one fails (default: stop the host at its first failure)",
    "template_dir": "folder of record templates that override the built-in ones",
    "accept_new_host_keys": "record host keys never seen before (a changed key is always refused)",
    "rerun": "rerun the missed cron jobs matching PATTERN (glob or substring of the command; repeatable)",
    "ask_sudo_password": "prompt once for the sudo password (not echoed) before contacting any host",
    "allow_backward_step": "allow stepping a clock that is ahead back by more than max_backward_step (300 s)",
}


@task(
    iterable=["host", "hosts_file", "ntp_server", "url", "rerun"],
    help=_FLAG_HELP,
    default=True,
    auto_shortflags=False,
)
def run(
    c: Context,
    host: list[str],
    hosts_file: list[str] | None = None,
    fail_fast: bool = False,
    max_fail_percent: str | None = None,
    rerun_failed: str | None = None,
    ssh_config: str | None = None,
    ntp_server: list[str] | None = None,
    backup: str | None = None,
    backup_evidence: str | None = None,
    backup_check: str | None = None,
    url: list[str] | None = None,
    expect_text: str | None = None,
    max_offset: str | None = None,
    dry_run: bool = False,
    record_dir: str | None = None,
    window: str | None = None,
    timezone: str | None = None,
    parallel: int | None = None,
    keep_going: bool = False,
    template_dir: str | None = None,
    accept_new_host_keys: bool = False,
    rerun: list[str] | None = None,
    allow_backward_step: bool = False,
    ask_sudo_password: bool = False,
) -> None:
    """Run the post-maintenance runbook on one host or a fleet and write the records."""
    try:
        settings = settings_for(
            c,
            ssh_config=ssh_config,
            ntp_servers=ntp_server or None,
            backup=_backup_override(c, backup, backup_evidence, backup_check),
            urls=url or None,
            expect_text=expect_text,
            max_offset=max_offset,
            dry_run=dry_run or None,
            record_dir=record_dir,
            window=window,
            timezone=timezone,
            parallel=parallel,
            stop_on_failure=False if keep_going else None,
            accept_new_host_keys=accept_new_host_keys or None,
            rerun=rerun or None,
            allow_backward_step=allow_backward_step or None,
            sudo_password=getpass.getpass("sudo password: ") if ask_sudo_password else None,
        )
        templates = Path(template_dir) if template_dir else None
        check_templates(templates)
        hosts = _hosts(host, hosts_file or [], rerun_failed, settings)
        policy = FailurePolicy(len(hosts), fail_fast=fail_fast, max_fail_percent=_percent(max_fail_percent))
    except (SettingsError, ValueError) as exc:
        raise Exit(f"runbook: {exc}", code=2) from None
    if not hosts:
        print(f"nothing to rerun: no host failed in {rerun_failed}")
        return
    fleet = _run_with_journal(hosts, settings, templates, policy)
    if not fleet:
        raise Exit(code=1)


def _percent(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text.strip().removesuffix("%"))
    except ValueError:
        raise ValueError(f"--max-fail-percent takes a number from 0 to 100, not {text!r}") from None


def _hosts(entries: list[str], files: list[str], rerun_failed: str | None, settings: Settings) -> list[str]:
    """The hosts to run on; with ``--rerun-failed`` only the earlier run's failed ones (plus any named)."""
    if rerun_failed is None:
        return select_hosts(entries, hosts_files=files, ssh_config=settings.ssh_config)
    earlier = failed_hosts(rerun_failed)
    named = (
        select_hosts(entries, hosts_files=files, ssh_config=settings.ssh_config) if entries or files else []
    )
    return list(dict.fromkeys([*earlier, *named]))


@task(help={"journal": "journal file (.jsonl) of an interrupted or crashed run"})
def render(c: Context, journal: str, record_dir: str | None = None, template_dir: str | None = None) -> None:
    """Write the records of a run from its journal (after Ctrl-C, a kill or a crash)."""
    path = Path(journal)
    if not path.is_file():
        raise Exit(f"runbook: journal {path} does not exist", code=2)
    try:
        settings = journal_settings(path, settings_for(c, record_dir=record_dir))
        fleet = load_journal(path)
        templates = Path(template_dir) if template_dir else None
        check_templates(templates)
    except (SettingsError, ValueError) as exc:
        raise Exit(f"runbook: {exc}", code=2) from None
    for written in _write(RecordWriter(settings, template_dir=templates, journal=path), fleet, path):
        print(f"record: {written}")


post_maint = Collection("post-maint", run, render)


def _backup_override(c: Context, command: str | None, evidence: str | None, check: str | None) -> Any:
    if command is None and evidence is None and check is None:
        return None
    base = settings_for(c).backup
    merged: dict[str, Any] = {}
    if base is not None:
        merged = {k: v for k, v in vars(base).items() if v is not None}
    for key, value in (("command", command), ("evidence_file", evidence), ("check_command", check)):
        if value is not None:
            merged[key] = value
    return merged


def _run_with_journal(
    hosts: list[str], settings: Settings, templates: Path | None, policy: FailurePolicy
) -> FleetRun:
    directory = Path(settings.record_dir)
    directory.mkdir(parents=True, exist_ok=True)
    journal = Journal.create(directory, time.time())
    journal_file = journal.path
    journal.run_started(hosts, settings)
    progress = progress_for(sys.stdout, hosts, len(default_steps()))
    writer = RecordWriter(settings, template_dir=templates, journal=journal_file)
    try:
        fleet = run_fleet(hosts, settings, listener=Broadcast(journal, writer, progress), policy=policy)
    except FleetInterrupted as exc:
        progress.close()
        print("\ninterrupted: writing records of what was done so far", file=sys.stderr)
        for written in _write(writer, exc.fleet, journal_file):
            print(f"record: {written}")
        raise Exit(code=130) from None
    finally:
        journal.close()
    progress.close()
    if fleet.stopped:
        print(f"stopped starting hosts: {fleet.stopped}", file=sys.stderr)
    for written in _write(writer, fleet, journal_file):
        print(f"record: {written}")
    ok = len(fleet.succeeded)
    print(f"{ok} of {len(fleet.runs)} host(s) ok or changed; journal: {journal_file}")
    return fleet


def _write(writer: RecordWriter, fleet: FleetRun, journal: Path) -> list[Path]:
    """Write the records left; a template that fails only now still leaves the JSON and the journal."""
    try:
        return writer.finish(fleet)
    except RecordError as exc:
        print(f"runbook: {exc} (the JSON record and the journal {journal} are complete)", file=sys.stderr)
        return []


namespace = Collection()
namespace.add_collection(post_maint)
program = Program(namespace=namespace, version=__version__, name="runbook", binary="runbook")


def main() -> None:
    """Entry point of the ``runbook`` console script."""
    program.run()


__all__ = ["main", "post_maint", "program"]
