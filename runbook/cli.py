"""The command line: ``runbook post-maint`` / ``runbook config`` / ``runbook check`` (and ``invoke`` here).

Settings come from Invoke's config files, ``runbook.yaml`` in the current directory, ``-f FILE``
and flags, in that order (``runbook.configuration``); ``runbook config`` shows which source each
setting came from. Everything a flag or file gets wrong is reported before anything runs on a
host (exit 2).
"""

from __future__ import annotations

import getpass
import io
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from runbook import __version__
from runbook.check.command import check
from runbook.configuration import Sources, gather
from runbook.engine import Broadcast, FailurePolicy, FleetInterrupted, default_steps, run_fleet
from runbook.errors import RecordError, SettingsError
from runbook.hosts import failed_hosts, groups_of, select_hosts
from runbook.notify.deliver import deliver
from runbook.premaint import before_after_flags, pre_maint
from runbook.program import RunbookProgram
from runbook.progress import progress_for
from runbook.record import (
    Journal,
    RecordWriter,
    check_templates,
    journal_settings,
    load_journal,
    text,
)
from runbook.results import FleetRun, Outcome
from runbook.selection import select
from runbook.settings import Settings, with_overrides

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
    "timezone": "time zone for the record besides UTC (e.g. Asia/Tokyo or JST)",
    "lang": "language of the records: en (default) or ja",
    "details": "brief (default: the commands an admin would type) or full (also the probe and step data)",
    "parallel": "hosts at a time (default 10)",
    "keep_going": "run every step even after one fails (default: stop the host at its first failure)",
    "template_dir": "folder of record templates that override the built-in ones",
    "accept_new_host_keys": "record host keys never seen before (a changed key is always refused)",
    "rerun": "rerun the missed cron jobs matching PATTERN (glob or substring of the command; repeatable)",
    "ask_sudo_password": "prompt once for the sudo password (not echoed) before contacting any host",
    "allow_backward_step": "allow stepping a clock that is ahead back by more than max_backward_step (300 s)",
    "user": "login user (over the ssh_config's User)",
    "identity": "private key file to log in with (over the ssh_config's IdentityFile)",
    "port": "SSH port (over the ssh_config's Port)",
    "only": "run only this step (repeatable; names as in the record; steps it needs still run)",
    "skip": "do not run this step (repeatable; recorded as skipped by choice)",
    "quiet": "print nothing when every host is ok, a short summary otherwise (for cron)",
    "before": "snapshot to compare with (default: the host's newest HOST-before-*.json in the record folder)",
    "restore": "start again (and enable) the services that ran before the maintenance and are stopped now",
    "mail_to": "mail the run's result to this address (repeatable; SMTP through --smtp)",
    "smtp": "SMTP server HOST[:PORT] for --mail-to (default localhost:25)",
    "webhook": "POST a short JSON summary (a 'text' field) to this chat webhook URL",
}


@task(
    iterable=["host", "hosts_file", "ntp_server", "url", "rerun", "only", "skip", "mail_to"],
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
    user: str | None = None,
    identity: str | None = None,
    port: int | None = None,
    only: list[str] | None = None,
    skip: list[str] | None = None,
    quiet: bool = False,
    before: str | None = None,
    restore: bool = False,
    mail_to: list[str] | None = None,
    smtp: str | None = None,
    webhook: str | None = None,
    lang: str | None = None,
    details: str | None = None,
) -> None:
    """Run the post-maintenance runbook on one host or a fleet and write the records."""
    try:
        sources = gather(
            c.config,
            dict(
                ssh_config=ssh_config,
                ntp_servers=ntp_server or None,
                backup=_backup_flags(backup, backup_evidence, backup_check),
                urls=url or None,
                expect_text=expect_text,
                max_offset=max_offset,
                dry_run=dry_run or None,
                record_dir=record_dir,
                window=window,
                timezone=timezone,
                lang=lang,
                details=details,
                parallel=parallel,
                stop_on_failure=False if keep_going else None,
                accept_new_host_keys=accept_new_host_keys or None,
                rerun=rerun or None,
                allow_backward_step=allow_backward_step or None,
                user=user,
                identity=identity,
                port=port,
                only=only or None,
                skip=skip or None,
                before_after=before_after_flags(before, restore),
                notify=_given(mail_to=mail_to or None, smtp=smtp, webhook=webhook),
            ),
        )
        settings = sources.settings()
        _check_files(settings)
        selection = select(default_steps(), settings.fleet.only, settings.fleet.skip)
        templates = Path(template_dir) if template_dir else None
        check_templates(templates)
        hosts = _hosts(host, hosts_file or [], rerun_failed, settings)
        per_host = _per_host(sources, hosts, settings)
        policy = FailurePolicy(len(hosts), fail_fast=fail_fast, max_fail_percent=_percent(max_fail_percent))
    except (SettingsError, ValueError) as exc:
        raise Exit(f"runbook: {exc}", code=2) from None
    if not hosts:
        print(f"nothing to rerun: no host failed in {rerun_failed}")
        return
    if ask_sudo_password:
        password = getpass.getpass("sudo password: ")
        settings = with_overrides(settings, {"sudo_password": password})
        per_host = {
            name: with_overrides(chosen, {"sudo_password": password}) for name, chosen in per_host.items()
        }
    for needed, needer in selection.kept_for.items():
        if not quiet:
            print(f"{needed} runs too: {needer} needs it")
    run = Run(hosts, settings, templates, policy, selection.left_out, per_host, quiet)
    fleet = _run_with_journal(run)
    if not fleet:
        raise Exit(code=1)


@dataclass(frozen=True)
class Run:
    """What ``post-maint`` was asked to do, checked: hosts, settings (per host too), steps left out."""

    hosts: list[str]
    settings: Settings
    templates: Path | None
    policy: FailurePolicy
    left_out: dict[str, str]
    per_host: dict[str, Settings]
    quiet: bool


def _check_files(settings: Settings) -> None:
    """Files named by settings must exist before any host is contacted."""
    for name, value in (
        ("--ssh-config", settings.ssh.config),
        ("--identity", settings.ssh.identity),
        ("--before", settings.before_after.before),
    ):
        if value and not Path(value).expanduser().is_file():
            raise SettingsError(f"{name} {value}: no such file; give an existing file")


def _per_host(sources: Sources, hosts: list[str], settings: Settings) -> dict[str, Settings]:
    """Each host's own settings where a ``for:`` entry names it; checked now, not at its turn."""
    if not sources.per_host:
        return {}
    members = groups_of(settings.ssh.config)
    per_host = {}
    for name in hosts:
        chosen = sources.for_host(name, members)
        _check_files(chosen)
        if chosen != settings:
            per_host[name] = chosen
    return per_host


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
        return select_hosts(entries, hosts_files=files, ssh_config=settings.ssh.config)
    earlier = failed_hosts(rerun_failed)
    named = (
        select_hosts(entries, hosts_files=files, ssh_config=settings.ssh.config) if entries or files else []
    )
    return list(dict.fromkeys([*earlier, *named]))


@task(
    help={
        "journal": "journal file (.jsonl) of an interrupted or crashed run",
        "lang": "language of the records (default: the run's)",
        "details": "brief or full (default: the run's)",
    }
)
def render(
    c: Context,
    journal: str,
    record_dir: str | None = None,
    template_dir: str | None = None,
    lang: str | None = None,
    details: str | None = None,
) -> None:
    """Write a run's records from its journal: after Ctrl-C, a kill or a crash, or in another language."""
    path = Path(journal)
    if not path.is_file():
        raise Exit(f"runbook: journal {path} does not exist", code=2)
    try:
        settings = journal_settings(path, gather(c.config, {"record_dir": record_dir}).settings())
        chosen = {name: value for name, value in (("lang", lang), ("details", details)) if value is not None}
        settings = with_overrides(settings, chosen)
        fleet = load_journal(path)
        templates = Path(template_dir) if template_dir else None
        check_templates(templates)
    except (SettingsError, ValueError) as exc:
        raise Exit(f"runbook: {exc}", code=2) from None
    for written in _write(RecordWriter(settings, template_dir=templates, journal=path), fleet, path):
        print(f"record: {written}")


post_maint = Collection("post-maint", run, render)


def _backup_flags(command: str | None, evidence: str | None, check: str | None) -> dict[str, str] | None:
    """The backup flags given, as a partial ``backup`` setting (merged over the files' one)."""
    return _given(command=command, evidence_file=evidence, check_command=check)


def _given(**flags: Any) -> dict[str, Any] | None:
    """The flags given (not ``None``), or ``None`` when there are none."""
    return {key: value for key, value in flags.items() if value is not None} or None


def _run_with_journal(run: Run) -> FleetRun:
    settings = run.settings
    directory = Path(settings.records.dir)
    directory.mkdir(parents=True, exist_ok=True)
    journal = Journal.create(directory, time.time())
    journal_file = journal.path
    journal.run_started(run.hosts, settings)
    out = io.StringIO() if run.quiet else sys.stdout
    progress = progress_for(out, run.hosts, len(default_steps()))
    writer = RecordWriter(settings, template_dir=run.templates, journal=journal_file)
    try:
        fleet = run_fleet(
            run.hosts,
            settings,
            listener=Broadcast(journal, writer, progress),
            policy=run.policy,
            left_out=run.left_out,
            host_settings=lambda name: run.per_host.get(name, settings),
        )
    except FleetInterrupted as exc:
        progress.close()
        print("\ninterrupted: writing records of what was done so far", file=sys.stderr)
        for path in _write(writer, exc.fleet, journal_file):
            print(f"record: {path}")
        raise Exit(code=130) from None
    finally:
        journal.close()
    progress.close()
    written = _write(writer, fleet, journal_file)
    for problem in deliver(fleet, written, settings.notify) if settings.notify.enabled else []:
        print(f"runbook: {problem}", file=sys.stderr)
    if run.quiet:
        _summary(fleet, written)
        return fleet
    if fleet.stopped:
        print(f"stopped starting hosts: {fleet.stopped}", file=sys.stderr)
    for path in written:
        print(f"record: {path}")
    ok = len(fleet.succeeded)
    print(f"{ok} of {len(fleet.runs)} host(s) ok or changed; journal: {journal_file}")
    return fleet


def _summary(fleet: FleetRun, written: list[Path]) -> None:
    """``--quiet``: nothing when every host is ok; else one line per host that changed or failed."""
    if all(run.outcome is Outcome.OK for run in fleet.runs) and not fleet.stopped:
        return
    for run in fleet.runs:
        if run.outcome is Outcome.OK:
            continue
        records = [
            str(path) for path in written if path.name.startswith(f"{run.host}-") and path.suffix == ".md"
        ]
        said = run.error or "; ".join(f"{r.step}: {r.message}" for r in run.results if r.failed or r.changed)
        where = f" (record: {records[0]})" if records else ""
        print(f"{run.host}: {run.outcome.value.upper()} - {text.one_line(said)}{where}")
    if fleet.stopped:
        print(f"stopped starting hosts: {fleet.stopped}")


@task(
    help={
        "host": "show the settings this host gets (its 'for:' entries applied)",
        "ssh_config": _FLAG_HELP["ssh_config"],
    }
)
def config(c: Context, host: str | None = None, ssh_config: str | None = None) -> None:
    """Print the settings in effect and where each came from (a file, a flag or the default)."""
    try:
        sources = gather(c.config, {"ssh_config": ssh_config})
        members = groups_of(sources.settings().ssh.config) if host else None
        rows = sources.explain(host, members)
    except (SettingsError, ValueError) as exc:
        raise Exit(f"runbook: {exc}", code=2) from None
    width = max(len(name) for name, _, _ in rows)
    shown = min(40, max(len(value) for _, value, _ in rows))
    for name, value, source in rows:
        print(f"{name:<{width}}  {text.one_line(value):<{shown}}  ({source})")


def _write(writer: RecordWriter, fleet: FleetRun, journal: Path) -> list[Path]:
    """Write the records left; a template that fails only now still leaves the JSON and the journal."""
    try:
        return writer.finish(fleet)
    except RecordError as exc:
        print(f"runbook: {exc} (the JSON record and the journal {journal} are complete)", file=sys.stderr)
        return []


namespace = Collection()
namespace.add_collection(post_maint)
namespace.add_collection(pre_maint)
namespace.add_task(config)
namespace.add_task(check)
program = RunbookProgram(namespace=namespace, version=__version__, name="runbook", binary="runbook")


def main() -> None:
    """Entry point of the ``runbook`` console script."""
    program.run()


__all__ = ["check", "config", "main", "post_maint", "program"]
