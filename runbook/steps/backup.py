"""Rerun the backup the maintenance window made the host miss, only when it was missed."""

from __future__ import annotations

import shlex
import time
from dataclasses import replace
from datetime import UTC, datetime

from invoke.context import Context

from runbook import clock
from runbook.commands import StepRecorder, step
from runbook.durations import format_duration
from runbook.errors import ClockUnreadable, NTPUnavailable
from runbook.facts import HostFacts, facts_for, forget_facts
from runbook.results import Outcome, StepResult
from runbook.session import session_of, settings_for
from runbook.settings import BackupSettings, Settings
from runbook.stepdata import BackupRerun
from runbook.steps.clock import host_offset


def true_now(rec: StepRecorder, settings: Settings) -> float:
    """True time: the NTP reference check_date used (cached), else the controller's clock (warned)."""
    try:
        return clock.reference_time(settings).now()
    except NTPUnavailable as exc:
        rec.warnings.append(f"no NTP reference ({exc}): judged by the controller's clock instead")
        return time.time()


def _host_skew(settings: Settings, facts: HostFacts) -> float | None:
    """The host clock's offset at probe time, when it could be measured."""
    try:
        return host_offset(settings, facts).offset
    except (ClockUnreadable, NTPUnavailable):
        return None


RUNS_AS = "root"
"""The backup reruns as root: a login user other than root goes through sudo."""


def _when(epoch: float) -> str:
    try:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"epoch {epoch:.0f}"


def _ago(age: float) -> str:
    text = format_duration(abs(age))[1:]
    return f"{text} ago" if age >= 0 else f"{text} in the future"


@step("rerun_backup", title="rerun missed backup", data=BackupRerun)
def rerun_backup(
    c: Context,
    rec: StepRecorder,
    backup_command: str | None = None,
    dry_run: bool = False,
) -> StepResult:
    """Rerun ``settings.backup.command`` when its evidence says it missed its run.

    Fresh means the check command exits 0 (it decides when configured; the evidence file is
    then only reported), else the evidence file's timestamp is newer than true now minus
    ``max_age`` ("true now" is the NTP reference: the host clock may be wrong). A check
    command run on a host clock off by more than ``max_offset`` judges with the wrong time,
    so then the evidence file decides when there is one (with a warning). A missed
    backup runs with ``timeout``; exit 0 is ``changed``, anything else ``failed``.
    ``skipped`` when no backup, or no evidence to judge it by, is configured.
    """
    settings = settings_for(c)
    dry = rec.dry_run = dry_run or settings.dry_run
    backup: BackupSettings | None = settings.backup
    if backup_command:
        backup = replace(backup, command=backup_command) if backup else BackupSettings(command=backup_command)
        settings = replace(settings, backup=backup)
    if backup is None:
        return rec.finish(Outcome.SKIPPED, "no backup configured", rerun=False)
    if not (backup.evidence_file or backup.check_command):
        return rec.finish(
            Outcome.SKIPPED,
            "no backup evidence configured (evidence_file or check_command): cannot tell whether it ran",
            rerun=False,
        )
    facts = facts_for(c, rec, settings)
    evidence = facts.backup
    now = true_now(rec, settings)
    skew = _host_skew(settings, facts)
    last = evidence.last_success if evidence else None
    age = None if last is None else now - last
    data: dict[str, object] = {
        "last_success": last,
        "age": age,
        "max_age": backup.max_age,
        "rerun": False,
        "exit_code": None,
        "tail": [],
        "check_rc": evidence.check_rc if evidence else None,
        "command": backup.command,
        "evidence_error": evidence.error if evidence else None,
    }
    seen = "no recorded success" if last is None else f"last success {_when(last)}, {_ago(now - last)}"
    trust_check = skew is None or abs(skew) <= settings.ntp.max_offset or not backup.evidence_file
    if backup.check_command and not trust_check:
        rec.warnings.append(
            f"the check command ran on a host clock {skew:+,.1f} s off: the evidence file decided"
        )
    if backup.check_command and trust_check:
        rc = evidence.check_rc if evidence else None
        fresh = rc == 0
        seen = f"check command exit {rc}; {seen}"
    else:
        fresh = age is not None and age < backup.max_age
        seen = f"{seen}, max age {format_duration(backup.max_age)[1:].replace(' 0m 0s', '')}"
    if evidence and evidence.error:
        seen = f"{seen} ({evidence.error})"
    if fresh:
        return rec.finish(Outcome.OK, f"backup is fresh: {seen}; not rerun", **data)
    if session_of(c).already_rerun(RUNS_AS, backup.command):
        return rec.finish(Outcome.OK, f"backup already rerun in this run: {seen}", **data)
    session_of(c).mark_rerun(RUNS_AS, backup.command)
    if dry:
        return rec.finish(Outcome.CHANGED, f"would rerun the backup: {seen}", **data)
    record = rec.run(
        c,
        f"sh -c {shlex.quote(backup.command)} 2>&1",
        timeout=backup.timeout,
        parse=False,
        sudo_password=settings.ssh.sudo_password,
    )
    forget_facts(c)
    tail = (record.stdout + record.stderr).splitlines()[-backup.output_lines :]
    data.update(rerun=True, exit_code=record.exit_code, tail=tail, duration=record.duration)
    took = f"{record.duration:.1f} s"
    if record.exit_code is None:
        rec.warnings.append(
            "the backup may still be running on the host: the timeout only closed the channel"
        )
        return rec.finish(
            Outcome.FAILED, f"backup rerun did not finish: {record.note or 'no exit code'} ({seen})", **data
        )
    if record.exit_code != 0:
        return rec.finish(
            Outcome.FAILED, f"backup rerun failed: exit {record.exit_code} in {took} ({seen})", **data
        )
    return rec.finish(Outcome.CHANGED, f"backup rerun: exit 0 in {took} ({seen})", **data)
