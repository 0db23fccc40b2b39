"""Time daemon steps, one set for every setup: restart it, one-shot sync, start + enable.

The steps hold the policy; the daemon's driver (``runbook.daemons``) knows its commands and
their output. The daemon and init system come from the probe (``HostFacts.choice``): which
daemon to drive, a conflict, or none. A backward step over ``max_backward_step`` is refused
unless ``allow_backward_step``; a dry run says what it would do. When the one-shot sync finds
the NTP socket in use, the step stops the daemon, syncs again and starts it. Changing
commands run with ``sudo`` when ``settings.ssh.sudo_password`` is set; every value from settings
is quoted. A step that changed something forgets the cached facts.
"""

from __future__ import annotations

from dataclasses import dataclass

from invoke.context import Context

from runbook import clock
from runbook.commands import StepRecorder, step
from runbook.daemons import Driver, SyncKind, SyncRun
from runbook.daemons.drivers import FAMILIES, driver_for
from runbook.daemons.ntpd_classic import parse_ntpdate
from runbook.durations import format_duration
from runbook.errors import ClockUnreadable, NTPUnavailable
from runbook.facts import DaemonState, HostFacts, facts_for, forget_facts, section_token
from runbook.results import CommandRecord, Outcome, StepResult
from runbook.session import session_of, settings_for
from runbook.settings import Settings
from runbook.stepdata import ClockSync, DaemonBoot, DaemonRestart
from runbook.steps.clock import PANIC_THRESHOLD, first_offset, host_offset
from runbook.timeservice import TimeService, parse_service_actions

__all__ = [
    "NO_DAEMON",
    "clock_changed",
    "one_shot_sync",
    "parse_ntpdate",
    "restart_daemon",
    "start_enable_daemon",
]

NO_DAEMON = f"no supported time daemon found (looked for {', '.join(FAMILIES[:-1])} and {FAMILIES[-1]})"


@dataclass(frozen=True)
class NoDaemon:
    """Why no daemon is driven: none installed, or a conflict (two would fight over the clock)."""

    reason: str
    conflict: bool


@dataclass(frozen=True)
class Driven:
    """The daemon the steps drive: its driver, its service under the host's init, its state."""

    driver: Driver
    service: TimeService
    state: DaemonState


def clock_changed(c: Context) -> bool:
    """Whether a time step on ``c`` changed the clock or (re)started a daemon that may step it."""
    return session_of(c).clock_changed


def _mark_changed(c: Context) -> None:
    session_of(c).clock_changed = True


def _measured(rec: StepRecorder, settings: Settings, facts: HostFacts) -> clock.Measurement | None:
    try:
        return host_offset(settings, facts)
    except (ClockUnreadable, NTPUnavailable) as exc:
        rec.warnings.append(f"offset not measured: {exc}")
        return None


def _chosen(facts: HostFacts, data: dict[str, object]) -> Driven | NoDaemon:
    """The daemon to drive (``data`` gets daemon, init and the choice note), or why there is none."""
    choice = facts.choice()
    data["init"] = facts.init
    if choice.conflict:
        return NoDaemon(choice.conflict, conflict=True)
    if choice.service is None or choice.state is None:
        return NoDaemon(f"{NO_DAEMON}; init: {facts.init}", conflict=False)
    data.update(daemon=choice.service.daemon, service=choice.service.name, choice=choice.note)
    return Driven(driver_for(choice.service.daemon), choice.service, choice.state)


def backward_refusal(
    settings: Settings, measured: clock.Measurement | None, first: clock.Measurement | None = None
) -> str | None:
    """Why a step that may set this clock is refused, else ``None``.

    Refused when the clock is ahead by more than ``max_backward_step``, judged by the offset
    measured now or, when that is unknown, by the first one this run measured; with neither,
    a step could go back by any amount, so it is refused too. ``allow_backward_step`` allows all.
    """
    if settings.ntp.allow_backward_step:
        return None
    known = measured or first
    if known is None:
        return (
            "refused: the host clock's offset is unknown (no NTP reference answered), so a step could set "
            "time back by any amount; run again when an NTP server answers, or with --allow-backward-step "
            "if the clock may go back; nothing changed"
        )
    if known.offset >= -settings.ntp.max_backward_step:
        return None
    back = -known.offset
    limit = settings.ntp.max_backward_step
    return (
        f"refused: the host clock is {back:,.1f} s ({format_duration(back)}) AHEAD, and fixing it steps time "
        f"backwards by more than max_backward_step ({limit:g} s); databases, logs and "
        "schedulers misbehave when time goes back: check what runs on the host, then run again with "
        "--allow-backward-step; nothing changed"
    )


def _panic_note(rec: StepRecorder, measured: clock.Measurement | None, how: str) -> None:
    if measured is not None and abs(measured.offset) > PANIC_THRESHOLD:
        rec.warnings.append(
            f"offset {measured.offset:+,.1f} s is over ntpd's {PANIC_THRESHOLD:g} s panic threshold: {how}"
        )


def _run(
    c: Context, rec: StepRecorder, settings: Settings, command: str, timeout: float | None = None
) -> CommandRecord:
    return rec.run(
        c,
        command,
        timeout=timeout or settings.fleet.command_timeout,
        sudo_password=settings.ssh.sudo_password,
    )


def _started(service: TimeService, record: CommandRecord) -> str:
    """``ok``/``failed`` for a start or restart: SysV's ``[  OK  ]`` line, else the exit code."""
    said = (
        parse_service_actions(f"{record.stdout}\n{record.stderr}")["start"]
        if service.init == "sysv"
        else None
    )
    return said or ("ok" if record.ok else "failed")


# -- restart_daemon ----------------------------------------------------------------------


@step("restart_daemon", title="restart time daemon", data=DaemonRestart, needs=("check_date",))
def restart_daemon(
    c: Context,
    rec: StepRecorder,
    ntp_server: str | None = None,
    max_offset: float | None = None,
    dry_run: bool = False,
) -> StepResult:
    """Restart the host's time daemon (``service``/``systemctl``/``rc-service``), recording how it went.

    ``ok`` without running anything when the daemon runs and the offset is within
    ``max_offset``: a daemon still synchronising is left to finish (verify waits for it).
    The driver's commands run first (systemd-timesyncd: ``timedatectl set-ntp true``). A
    backward step over ``max_backward_step`` is refused (``failed``): a restarted daemon may
    step. Warns about what keeps the daemon from recovering a suspend (chrony's ``makestep``).
    """
    settings = settings_for(c, ntp_server=ntp_server, max_offset=max_offset)
    dry = rec.dry_run = dry_run or settings.dry_run
    facts = facts_for(c, rec, settings)
    data: dict[str, object] = {"stop": None, "start": None}
    driven = _chosen(facts, data)
    if isinstance(driven, NoDaemon):
        return rec.finish(Outcome.FAILED, driven.reason, **data)
    service, state = driven.service, driven.state
    data["was_running"] = state.running
    if driven.driver.exits_on_panic and facts.ntpd_without_g:
        data["no_panic_override"] = facts.ntpd_without_g
    if data["choice"]:
        rec.warnings.append(str(data["choice"]))
    warnings = driven.driver.warnings(facts)
    rec.warnings.extend(warnings)
    if warnings and driven.driver.family == "chronyd":
        data["makestep_warning"] = warnings[0]
    measured = _measured(rec, settings, facts)
    reasons = []
    if not state.running:
        reasons.append("not running")
    if measured is None or abs(measured.offset) > settings.ntp.max_offset:
        reasons.append("offset unknown" if measured is None else f"offset {measured.offset:+,.3f} s")
    if not reasons:
        synced = (
            f"synchronised to {facts.sync.peer}"
            if facts.sync.synchronised
            else "not synchronised yet (verify waits for it)"
        )
        said = f"{service.label} running, clock within tolerance, {synced}: not restarted"
        return rec.finish(Outcome.OK, said, **data)
    refused = backward_refusal(settings, measured, first_offset(c))
    if refused:
        return rec.finish(Outcome.FAILED, f"{service.daemon} not restarted: {refused}", **data)
    if dry:
        return rec.finish(Outcome.CHANGED, f"would restart {service.daemon} ({', '.join(reasons)})", **data)
    if driven.driver.exits_on_panic:
        _panic_note(rec, measured, f"without -g {service.daemon} may exit; the one-shot sync fixes the clock")
    for command in driven.driver.before_restart():
        _run(c, rec, settings, command)
    record = _run(c, rec, settings, service.restart())
    forget_facts(c)
    _mark_changed(c)
    actions = parse_service_actions(f"{record.stdout}\n{record.stderr}")
    start = _started(service, record)
    data.update(stop=actions["stop"], start=start)
    said = ", ".join(
        f"{name} {value.upper()}" for name, value in (("stop", actions["stop"]), ("start", start)) if value
    )
    if actions["stop"] == "failed":
        said = said.replace("stop FAILED", "stop FAILED (was not running)")
    outcome = Outcome.CHANGED if start == "ok" else Outcome.FAILED
    return rec.finish(outcome, f"{service.restart()}: {said}", **data)


# -- one_shot_sync -----------------------------------------------------------------------


def _sync(
    c: Context,
    rec: StepRecorder,
    settings: Settings,
    facts: HostFacts,
    driven: Driven | None,
    data: dict[str, object],
) -> tuple[SyncRun, str]:
    """The driver's one-shot sync; on ``socket-in-use`` stop the daemon, sync again, start it again.

    Returns the run and what the fallback adds to the message. Without a daemon the ntpd
    driver's tools (ntpdate, ntpdig, ``ntpd -gq``) still set the clock.
    """
    driver = driven.driver if driven else driver_for("ntpd")
    service = driven.service if driven else None
    running = driven.state.running if driven else False

    def run(command: str, timeout: float | None = None) -> CommandRecord:
        return _run(c, rec, settings, command, timeout)

    token = section_token(c)
    result = driver.one_shot(run, facts, settings, service, running, token)
    if result.kind is not SyncKind.SOCKET_IN_USE:
        return result, ""
    if service is None:
        return SyncRun(SyncKind.ERROR, f"{result.tool}: {result.message}, and {NO_DAEMON} to stop"), ""
    data["fallback"] = True
    _run(c, rec, settings, service.stop())
    try:
        result = driver.one_shot(run, facts, settings, service, False, token)
    finally:
        started = _run(c, rec, settings, service.start())
    data["start"] = _started(service, started)
    if data["start"] != "ok":
        rec.warnings.append(f"{service.daemon} did not start again after the sync")
        return result, f"; {service.daemon} did NOT start again"
    return result, f"; {service.daemon} held the NTP socket: stopped it for the sync and started it again"


@step("one_shot_sync", title="one-shot sync", data=ClockSync, needs=("check_date",))
def one_shot_sync(
    c: Context,
    rec: StepRecorder,
    ntp_server: str | None = None,
    max_offset: float | None = None,
    dry_run: bool = False,
) -> StepResult:
    """Set the clock once, the way the host's daemon allows, when the offset is over ``max_offset``.

    The daemon's driver sets it: ntpd/ntpsec: ntpdate (classic or the ntpsec wrapper), else
    ntpdig, else ``ntpd -gq`` (``no servers found`` with exit 0 is a failure); on ``the NTP
    socket is in use`` the step stops the daemon, syncs, starts it again. chronyd running:
    ``chronyc burst``, ``makestep``, a wait; stopped: ``chronyd -q``. systemd-timesyncd:
    set-ntp, restart, wait for ``NTPSynchronized=yes``. A backward step over
    ``max_backward_step`` is refused.
    """
    settings = settings_for(c, ntp_server=ntp_server, max_offset=max_offset)
    dry = rec.dry_run = dry_run or settings.dry_run
    facts = facts_for(c, rec, settings)
    data: dict[str, object] = {"fallback": False, "stepped": None, "server": None, "method": None}
    measured = _measured(rec, settings, facts)
    if measured is not None and abs(measured.offset) <= settings.ntp.max_offset:
        return rec.finish(
            Outcome.OK,
            f"offset {measured.offset:+.3f} s is within {settings.ntp.max_offset:g} s: not synced",
            **data,
        )
    chosen = _chosen(facts, data)
    if isinstance(chosen, NoDaemon) and chosen.conflict:
        return rec.finish(Outcome.FAILED, chosen.reason, **data)
    driven = chosen if isinstance(chosen, Driven) else None
    refused = backward_refusal(settings, measured, first_offset(c))
    if refused:
        return rec.finish(Outcome.FAILED, refused, **data)
    driver = driven.driver if driven else driver_for("ntpd")
    off = "offset unknown" if measured is None else f"offset {measured.offset:+,.3f} s"
    if dry:
        how = driver.one_shot_plan(facts, settings, driven.state.running if driven else False)
        return rec.finish(Outcome.CHANGED, f"would set the clock with {how} ({off})", **data)
    result, again = _sync(c, rec, settings, facts, driven, data)
    if result.tool:
        data["tool"] = result.tool
    _panic_note(rec, measured, driver.panic_note)
    if result.kind is SyncKind.NO_TOOL:
        return rec.finish(Outcome.FAILED, result.message, **data)
    forget_facts(c)
    server = result.server or ""
    data.update(server=result.server, method=result.method, address=result.address)
    if result.kind is not SyncKind.SYNCED:
        who = " ".join(part for part in (result.tool or driver.family, server) if part)
        return rec.finish(Outcome.FAILED, f"{who}: {result.message}{again}", **data)
    _mark_changed(c)
    data["stepped"] = result.offset
    did = (
        f"{'stepped' if result.method == 'step' else 'slewed'} the clock {result.offset:+,.6f} s"
        if result.offset is not None
        else "set the clock"
    )
    if measured is not None and measured.offset < 0:
        did += f" (backwards: the host was {-measured.offset:,.1f} s ahead)"
    outcome = Outcome.FAILED if data.get("start") not in {None, "ok"} else Outcome.CHANGED
    where = f" ({server})" if server else ""
    return rec.finish(outcome, f"{did} with {result.tool or result.message}{where}{again}", **data)


# -- start_enable_daemon -----------------------------------------------------------------


@step("start_enable_daemon", title="start + enable daemon", data=DaemonBoot, needs=("check_date",))
def start_enable_daemon(
    c: Context,
    rec: StepRecorder,
    dry_run: bool = False,
) -> StepResult:
    """Start the time daemon if it is not running and enable it at boot, as the init system does it.

    ``ok`` when it already runs and is enabled; ``changed`` after starting and/or enabling
    it. Starting is refused like a backward step (a starting daemon may step the clock).
    """
    settings = settings_for(c)
    dry = rec.dry_run = dry_run or settings.dry_run
    facts = facts_for(c, rec, settings)
    data: dict[str, object] = {}
    driven = _chosen(facts, data)
    if isinstance(driven, NoDaemon):
        return rec.finish(Outcome.FAILED, driven.reason, **data)
    service, state = driven.service, driven.state
    todo = []
    if not state.running:
        todo.append(("start", service.start()))
    if state.enabled is not True:
        todo.append(("enable at boot", service.enable()))
    data.update(
        daemon=service.daemon,
        was_running=state.running,
        was_enabled=state.enabled,
        running=state.running,
        enabled=state.enabled,
    )
    if not todo:
        levels = f" (runlevels {state.runlevels[0]}-{state.runlevels[-1]})" if state.runlevels else ""
        return rec.finish(Outcome.OK, f"{service.label} running and enabled at boot{levels}", **data)
    if not state.running:
        refused = backward_refusal(settings, _measured(rec, settings, facts), first_offset(c))
        if refused:
            return rec.finish(Outcome.FAILED, f"{service.daemon} not started: {refused}", **data)
    what = " and ".join(name for name, _ in todo)
    if dry:
        return rec.finish(Outcome.CHANGED, f"would {what} {service.daemon}", **data)
    done = {name: _run(c, rec, settings, command).ok for name, command in todo}
    forget_facts(c)
    if done.get("start"):
        _mark_changed(c)
    data.update(
        running=state.running or done.get("start", False),
        enabled=True if done.get("enable at boot") else state.enabled,
    )
    failed = [name for name, ok in done.items() if not ok]
    if failed:
        return rec.finish(Outcome.FAILED, f"could not {' and '.join(failed)} {service.daemon}", **data)
    return rec.finish(Outcome.CHANGED, f"{what}: {service.label}", **data)
