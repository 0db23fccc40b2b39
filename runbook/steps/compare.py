"""Before and after: ``snapshot`` (pre-maint's one step) and ``compare`` (post-maint's, after check_site).

``snapshot`` reads the host's state from the probe (the ``state`` fact unit, and the cron schedule:
it has the probe read every crontab) and the site checks, and returns the snapshot as its data
(``pre-maint`` writes it to a file). ``compare`` loads the host's newest snapshot (or
``before_after.before``), reports what changed as failures, warnings and information, and with
``restore`` starts the services that ran before and are stopped now.
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from invoke.context import Context

from runbook.commands import StepRecorder, step
from runbook.cron import cron_command
from runbook.facts import HostFacts, facts_for, forget_facts, section_token
from runbook.record.redact import MASK, redactor_for
from runbook.results import Outcome, StepResult
from runbook.session import session_of, settings_for
from runbook.settings import Settings
from runbook.shell import split_sections
from runbook.snapshot.compare import (
    Finding,
    Level,
    command_findings,
    compare_states,
    cron_findings,
    merged,
    site_findings,
    standing_problems,
)
from runbook.snapshot.cron import scheduled_jobs, unread
from runbook.snapshot.files import Snapshot, SnapshotError, load_snapshot, newest_snapshot
from runbook.snapshot.model import CronJob, HostState, Output
from runbook.snapshot.reading import commands_command, parse_outputs, with_programs
from runbook.snapshot.restore import restore_commands
from runbook.stepdata import SinceBefore
from runbook.steps.site import expand_url, fetch


def host_name(c: Context) -> str:
    """The name the host was selected by (what records and snapshots are named after)."""
    return str(getattr(c, "original_host", None) or getattr(c, "host", None) or "local")


def _site(c: Context, settings: Settings) -> list[dict[str, Any]]:
    return [
        asdict(
            fetch(expand_url(url, c), timeout=settings.site.timeout, expect_text=settings.site.expect_text)
        )
        for url in settings.site.urls
    ]


def _state(facts: HostFacts) -> HostState:
    return facts.state if facts.state is not None else HostState(init=facts.init)


@step("snapshot", title="snapshot")
def snapshot(c: Context, rec: StepRecorder, dry_run: bool = False) -> StepResult:
    """Read the host's state for a later ``compare``: the probe's facts (with every crontab), which
    program listens on each socket (``ss -tulnp``, the one command beyond the probe) and the site
    checks. Read-only."""
    settings = settings_for(c)
    session_of(c).cron_scope = "jobs"
    facts = facts_for(c, rec, settings)
    listening = rec.run(c, "ss -tulnp", timeout=settings.fleet.command_timeout)
    state = with_programs(_state(facts), listening.stdout if listening.exit_code == 0 else "")
    found = facts.service()
    taken = Snapshot(
        host=host_name(c),
        hostname=facts.hostname,
        taken=time.time(),
        state=state,
        commands=settings.before_after.commands,
        site=tuple(_site(c, settings)),
        clock_offset=facts.clock.remote - facts.clock.wall if facts.clock else None,
        daemon={"service": found[0].name, "running": found[1].running} if found else None,
        cron=_cron_jobs(c, rec, settings, facts.cron),
    )
    running = sum(1 for s in state.services.values() if s.running)
    message = (
        f"{running} services running, {len(state.sockets)} listening sockets, {len(state.mounts)} mounts, "
        f"{len(state.outputs)} operator commands"
        + ("" if taken.cron is None else f", {len(taken.cron)} cron jobs")
    )
    return rec.finish(Outcome.OK, message, snapshot=taken.to_dict())


def _snapshot_path(c: Context, settings: Settings) -> Path | None:
    """The snapshot ``compare`` reads: ``before_after.before``, else the host's newest one on record."""
    before = settings.before_after.before
    return Path(before) if before else newest_snapshot(Path(settings.records.dir), host_name(c))


def compares_cron(c: Context, settings: Settings) -> bool:
    """Whether ``compare`` will compare the cron schedule: the snapshot it will load has one. The engine
    asks before the first step, so the probe reads every crontab instead of a command doing it later."""
    path = _snapshot_path(c, settings)
    if path is None:
        return False
    try:
        return load_snapshot(path, host_name(c)).cron is not None
    except SnapshotError:
        return False


# It only reads (unless restoring): a failed step before it must not hide what the maintenance
# broke, so the engine runs it anyway.
@step(
    "compare",
    title="compare with before",
    data=SinceBefore,
    runs_after_failure=True,
    reads_every_crontab=compares_cron,
)
def compare(c: Context, rec: StepRecorder, restore: bool | None = None, dry_run: bool = False) -> StepResult:
    """Compare the host with its snapshot from before the maintenance; ``restore`` starts services again.

    Without a snapshot, reports what needs no history (enabled services not running, failed units,
    fstab mounts not mounted). A snapshot that cannot serve (another host's, damaged, newer format)
    skips the step with a one-line reason.
    """
    settings = settings_for(c)
    options = settings.before_after
    restore = options.restore if restore is None else restore
    facts = facts_for(c, rec, settings)
    host = host_name(c)
    path = _snapshot_path(c, settings)
    before: Snapshot | None = None
    if path is not None:
        try:
            before = load_snapshot(path, host)
        except SnapshotError as exc:
            return rec.finish(Outcome.SKIPPED, str(exc), snapshot=str(path))
    outputs = _outputs(c, rec, settings, _state(facts), before)
    answered = session_of(c).site_checks
    jobs = (
        _cron_jobs(c, rec, settings, facts.cron) if before is not None and before.cron is not None else None
    )
    findings = _findings(c, settings, _state(facts), before, outputs, answered, jobs)
    actions: list[tuple[str, str]] = []
    found: list[Finding] | None = None
    lost = [f.subject for f in findings if f.kind == "service" and f.before == "running"]
    if restore and lost and before is not None:
        plan = {
            name: restore_commands(facts.init, name, enable=_enable(before, _state(facts), name))
            for name in lost
        }
        if dry_run:
            actions = [
                (name, "would_start_enable" if len(cmds) > 1 else "would_start" if cmds else "cannot")
                for name, cmds in plan.items()
            ]
        else:
            for name, commands in plan.items():
                records = [
                    rec.run(
                        c,
                        command,
                        timeout=settings.fleet.command_timeout,
                        sudo_password=settings.ssh.sudo_password,
                    )
                    for command in commands
                ]
                worked = bool(records) and all(r.exit_code == 0 for r in records)
                actions.append((name, "started" if worked else "not_started" if records else "cannot"))
            forget_facts(c)
            now = _state(facts_for(c, rec, settings))
            found, findings = findings, _findings(c, settings, now, before, outputs, None, jobs)
    restored = [RESTORE_WORDS[action].format(name=name, init=facts.init) for name, action in actions]
    failures = [f for f in findings if f.level is Level.FAILURE]
    data: dict[str, Any] = {
        "snapshot": path.name if path else None,
        "taken_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(before.taken)) if before else None,
        "findings": [f.to_dict() for f in findings],
        **({"found": [f.to_dict() for f in found]} if found is not None else {}),
        "restored": restored,
        "restores": [{"service": name, "action": action} for name, action in actions],
        "init": facts.init,
    }
    since = f"since {data['taken_utc']}" if before else f"(no snapshot of {host}: take one with pre-maint)"
    info = [f.message for f in findings if f.level is Level.INFO]
    if failures:
        detail = "; ".join(f.message for f in failures)
        prefix = (
            f"{'; '.join(restored)}; "
            if dry_run and restored
            else f"{'; '.join(restored)}; still "
            if restored
            else ""
        )
        return rec.finish(Outcome.FAILED, f"{prefix}{_count(len(failures))} {since}: {detail}", **data)
    if restored:
        outcome = Outcome.CHANGED
        message = f"{'; '.join(restored)} ({since})"
    else:
        outcome = Outcome.OK
        message = f"nothing broken {since}"
    if info:
        message += f"; {'; '.join(info)}"
    return rec.finish(outcome, message, **data)


RESTORE_WORDS = {
    "started": "started {name}",
    "not_started": "could not start {name}",
    "cannot": "cannot restore {name} (init {init})",
    "would_start": "would start {name}",
    "would_start_enable": "would start {name} and enable it",
}
"""What ``--restore`` did (``restores``' actions), as the step's message and ``restored`` say it."""


def _findings(
    c: Context,
    settings: Settings,
    now: HostState,
    before: Snapshot | None,
    now_outputs: dict[str, Output],
    answered: list[dict[str, Any]] | None,
    jobs: tuple[CronJob, ...] | None,
) -> list[Finding]:
    """With a snapshot: what changed, and standing problems that are new since it (failures).
    Without: standing problems as warnings (nothing says the maintenance caused them). The site's
    answers are ``answered`` (``check_site``'s in this run), else fetched now; ``jobs`` the cron
    jobs now (``None``: not compared)."""
    if before is None:
        return merged([replace(f, level=Level.WARNING) for f in standing_problems(now)])
    site = []
    if before.site and settings.site.urls:
        site = site_findings(before.site, answered if answered is not None else _site(c, settings))
    changes = compare_states(before.state, now, disk_growth=settings.before_after.disk_growth)
    outputs = command_findings(dict(zip(before.commands, before.state.outputs, strict=False)), now_outputs)
    known = {(f.kind, f.subject) for f in standing_problems(before.state)}
    new = [f for f in standing_problems(now) if (f.kind, f.subject) not in known]
    cron = cron_findings(before.cron, jobs) if before.cron is not None and jobs is not None else []
    return merged(changes, site, outputs, new, cron)


def _cron_jobs(
    c: Context, rec: StepRecorder, settings: Settings, probed: str | None
) -> tuple[CronJob, ...] | None:
    """The host's cron jobs, commands masked as the snapshot keeps them: from the probe's cron section,
    or, when the probe left the crontabs unread, from the cron fragment as one more command (kept for
    the missed cron jobs step). ``None`` (and a warning) when it cannot be read."""
    session = session_of(c)
    section = session.cron_section or probed
    if section is None or unread(section):
        ran = rec.run(
            c,
            cron_command(),
            timeout=settings.fleet.command_timeout,
            sudo_password=settings.ssh.sudo_password,
        )
        if ran.exit_code != 0 or "@@runbook:cron@@" not in ran.stdout:
            rec.warnings.append("the cron schedule could not be read: not compared")
            return None
        section = session.cron_section = ran.stdout
    redactor = redactor_for(settings)
    jobs, unreadable = scheduled_jobs(section, settings.records.timezone)
    rec.warnings.extend(f"cron schedule: {note}" for note in unreadable)
    return tuple(replace(job, command=redactor.text(job.command)) for job in jobs)


def _enable(before: Snapshot, now: HostState, name: str) -> bool:
    """Whether restoring ``name`` enables it too: enabled at boot before, and not now."""
    was, is_now = before.state.services.get(name), now.services.get(name)
    return bool(was and was.enabled) and not (is_now and is_now.enabled)


def _outputs(
    c: Context, rec: StepRecorder, settings: Settings, now: HostState, before: Snapshot | None
) -> dict[str, Output]:
    """The operator's commands' outputs now, by command as the snapshot keeps it (secrets masked):
    the probe's, and, in one more command, those the snapshot has that the probe did not run
    (``before_after.commands`` changed). A command the snapshot keeps masked cannot run again."""
    redactor = redactor_for(settings)
    outputs = {
        redactor.text(cmd): out for cmd, out in zip(settings.before_after.commands, now.outputs, strict=False)
    }
    wanted = before.commands if before else ()
    missing = tuple(dict.fromkeys(cmd for cmd in wanted if cmd not in outputs and MASK not in cmd))
    if missing:
        token = section_token(c)
        ran = rec.run(c, commands_command(missing, token), timeout=settings.fleet.command_timeout)
        outputs.update(zip(missing, parse_outputs(split_sections(ran.stdout, token)), strict=False))
    for cmd in wanted:
        if cmd not in outputs:
            rec.warnings.append(f"`{cmd}` is kept masked in the snapshot: list it in before_after.commands")
    return outputs


def _count(n: int) -> str:
    return f"{n} problem" if n == 1 else f"{n} problems"
