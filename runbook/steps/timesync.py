"""Time daemon steps, one set for every setup: restart it, one-shot sync, start + enable.

The daemon and init system come from the probe (``HostFacts.choice``); each step runs the
right commands for them: ntpdate (classic, with the socket-in-use fallback, or the ntpsec
wrapper), ntpdig or ``ntpd -gq`` for ntpd/ntpsec; ``chronyc burst/makestep/waitsync`` or
``chronyd -q`` for chrony; ``timedatectl set-ntp true`` + restart for systemd-timesyncd.
A backward step over ``max_backward_step`` is refused unless ``allow_backward_step``.
Changing commands run with ``sudo`` when ``settings.sudo_password`` is set; every value
from settings is quoted. A step that changed something forgets the cached facts.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable

from invoke.context import Context

from runbook import clock
from runbook.commands import StepRecorder, step
from runbook.daemons import SyncRun
from runbook.daemons.chrony import (
    makestep_warning,
    parse_chronyd_q,
    parse_reply,
    server_directive,
    waitsync_command,
)
from runbook.daemons.ntpd_classic import parse_ntpd_gq, parse_ntpdate
from runbook.daemons.ntpsec import parse_ntpdig
from runbook.daemons.timesyncd import parse_timedatectl, wait_command
from runbook.durations import format_duration
from runbook.errors import ClockUnreadable, NTPUnavailable
from runbook.facts import DaemonState, HostFacts, facts_for, forget_facts
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

NO_DAEMON = "no supported time daemon found (looked for chronyd, ntpsec, ntpd and systemd-timesyncd)"
Parser = Callable[[str, int | None], SyncRun]


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


def _chosen(facts: HostFacts, data: dict[str, object]) -> tuple[TimeService, DaemonState] | str:
    """The daemon to drive, or why there is none; ``data`` gets daemon, init and the choice note."""
    choice = facts.choice()
    data["init"] = facts.init
    if choice.conflict:
        return choice.conflict
    if choice.service is None or choice.state is None:
        return f"{NO_DAEMON}; init: {facts.init}"
    data.update(daemon=choice.service.daemon, service=choice.service.name, choice=choice.note)
    return choice.service, choice.state


def backward_refusal(
    settings: Settings, measured: clock.Measurement | None, first: clock.Measurement | None = None
) -> str | None:
    """Why a step that may set this clock is refused, else ``None``.

    Refused when the clock is ahead by more than ``max_backward_step``, judged by the offset
    measured now or, when that is unknown, by the first one this run measured; with neither,
    a step could go back by any amount, so it is refused too. ``allow_backward_step`` allows all.
    """
    if settings.allow_backward_step:
        return None
    known = measured or first
    if known is None:
        return (
            "refused: the host clock's offset is unknown (no NTP reference answered), so a step could set "
            "time back by any amount; run again when an NTP server answers, or with --allow-backward-step "
            "if the clock may go back; nothing changed"
        )
    if known.offset >= -settings.max_backward_step:
        return None
    back = -known.offset
    return (
        f"refused: the host clock is {back:,.1f} s ({format_duration(back)}) AHEAD, and fixing it steps time "
        f"backwards by more than max_backward_step ({settings.max_backward_step:g} s); databases, logs and "
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
        c, command, timeout=timeout or settings.command_timeout, sudo_password=settings.sudo_password
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
    systemd-timesyncd gets ``timedatectl set-ntp true`` first. A backward step over
    ``max_backward_step`` is refused (``failed``): a restarted daemon may step. chrony:
    warns when chrony.conf's ``makestep`` cannot recover from a suspend.
    """
    settings = settings_for(c, ntp_server=ntp_server, max_offset=max_offset)
    dry = rec.dry_run = dry_run or settings.dry_run
    facts = facts_for(c, rec, settings)
    data: dict[str, object] = {"stop": None, "start": None}
    chosen = _chosen(facts, data)
    if isinstance(chosen, str):
        return rec.finish(Outcome.FAILED, chosen, **data)
    service, state = chosen
    data["was_running"] = state.running
    if service.daemon in {"ntpd", "ntpsec"} and facts.ntpd_without_g:
        data["no_panic_override"] = facts.ntpd_without_g
    if data["choice"]:
        rec.warnings.append(str(data["choice"]))
    if service.daemon == "chronyd" and facts.makestep is not None:
        warning = makestep_warning(facts.makestep)
        if warning:
            rec.warnings.append(warning)
            data["makestep_warning"] = warning
    measured = _measured(rec, settings, facts)
    reasons = []
    if not state.running:
        reasons.append("not running")
    if measured is None or abs(measured.offset) > settings.max_offset:
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
    if service.daemon in {"ntpd", "ntpsec"}:
        _panic_note(rec, measured, f"without -g {service.daemon} may exit; the one-shot sync fixes the clock")
    if service.daemon == "systemd-timesyncd":
        _run(c, rec, settings, "timedatectl set-ntp true")
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


def _each_server(
    c: Context,
    rec: StepRecorder,
    settings: Settings,
    servers: tuple[str, ...],
    command: Callable[[str], str],
    parse: Parser,
) -> tuple[SyncRun, str]:
    """``command(server)`` against each server in turn until one syncs (or the socket is in use)."""
    tried: list[tuple[SyncRun, str]] = []
    for server in servers:
        bound = min(settings.command_timeout, NTPD_GQ_TIMEOUT) if server == _NTP_CONF else None
        record = _run(c, rec, settings, command(server), timeout=bound)
        result = parse(f"{record.stdout}\n{record.stderr}", record.exit_code)
        if record.exit_code is None:
            result = SyncRun("error", record.note or "did not finish")
        tried.append((result, server))
        if result.kind in {"synced", "socket-in-use", "busy"}:
            return result, server
    if len(tried) > 1:
        names = ", ".join(server for _, server in tried)
        last, server = tried[-1]
        return SyncRun(last.kind, f"{last.message} (tried {names})"), server
    return tried[-1]


_NTP_CONF = "the servers of ntp.conf"
NTPD_GQ_TIMEOUT = 45.0
"""``ntpd -gq`` waits for its servers with no limit of its own; with iburst it sets the clock in ~10 s."""


def _ntp_tool(
    facts: HostFacts, settings: Settings
) -> tuple[str, tuple[str, ...], Callable[[str], str], Parser] | None:
    """The one-shot tool for ntpd/ntpsec hosts: ntpdate (either flavour), else ntpdig, else ``ntpd -gq``."""
    tools = facts.tools
    servers = settings.ntp_servers
    if "ntpdate" in tools:
        ntpdate = shlex.quote(tools["ntpdate"])
        if facts.ntpdate_flavour == "ntpsec":
            return (
                "ntpdate (ntpsec wrapper)",
                servers,
                lambda server: f"{ntpdate} {shlex.quote(server)}",
                parse_ntpdig,
            )
        return "ntpdate", servers, lambda server: f"{ntpdate} {shlex.quote(server)}", parse_ntpdate
    if "ntpdig" in tools:
        ntpdig = shlex.quote(tools["ntpdig"])
        return (
            "ntpdig",
            servers,
            lambda server: f"{ntpdig} -s -S -M 500 -t 1 {shlex.quote(server)}",
            parse_ntpdig,
        )
    if "ntpd" in tools:
        ntpd = shlex.quote(tools["ntpd"])
        return "ntpd -gq", (_NTP_CONF,), lambda _: f"{ntpd} -gq", parse_ntpd_gq
    return None


def _sync_ntp(
    c: Context,
    rec: StepRecorder,
    settings: Settings,
    facts: HostFacts,
    found: tuple[TimeService, DaemonState] | None,
    data: dict[str, object],
) -> tuple[SyncRun, str, str] | str:
    """ntpdate / ntpdig / ``ntpd -gq``, stopping the daemon around it when it holds UDP 123."""
    tool = _ntp_tool(facts, settings)
    if tool is None:
        return (
            "none of ntpdate, ntpdig or ntpd is installed on the host: install ntpdate (yum install ntpdate, "
            "apt-get install ntpsec-ntpdate) and run again; nothing changed"
        )
    label, servers, command, parse = tool
    data["tool"] = label
    result, server = _each_server(c, rec, settings, servers, command, parse)
    again = ""
    if result.kind == "socket-in-use":
        if found is None:
            return f"{label}: {result.message}, and {NO_DAEMON} to stop"
        service = found[0]
        data["fallback"] = True
        _run(c, rec, settings, service.stop())
        try:
            result, server = _each_server(c, rec, settings, servers, command, parse)
        finally:
            started = _run(c, rec, settings, service.start())
        data["start"] = _started(service, started)
        if data["start"] != "ok":
            rec.warnings.append(f"{service.daemon} did not start again after the sync")
            again = f"; {service.daemon} did NOT start again"
        else:
            again = f"; {service.daemon} held the NTP socket: stopped it for the sync and started it again"
    return result, server, again


def _sync_chrony_running(c: Context, rec: StepRecorder, settings: Settings) -> tuple[SyncRun, str, str]:
    """chronyd runs: ``burst 4/4``, wait for the measurements (bounded), ``makestep``, ``waitsync``."""
    burst = _run(c, rec, settings, "chronyc burst 4/4")
    code, said = parse_reply(f"{burst.stdout}\n{burst.stderr}", burst.exit_code)
    if not burst.ok or (code is not None and code != 200):
        return SyncRun("error", f"chronyc burst: {code or ''} {said}".replace("  ", " ")), "chronyd", ""
    tries = max(1, math.ceil(min(settings.sync_wait, 30.0)))
    _run(c, rec, settings, f"chronyc waitsync {tries} 0 0 1", timeout=tries + settings.command_timeout)
    step_record = _run(c, rec, settings, "chronyc makestep")
    code, said = parse_reply(f"{step_record.stdout}\n{step_record.stderr}", step_record.exit_code)
    if code != 200:
        why = {506: " (chronyd is not running)", 501: " (not authorised: run as root)"}.get(code or 0, "")
        return SyncRun("error", f"chronyc makestep: {code or ''} {said}{why}".strip()), "chronyd", ""
    wait = math.ceil(settings.sync_wait)
    waited = _run(c, rec, settings, waitsync_command(wait), timeout=wait + settings.command_timeout)
    if not waited.ok:
        lines = [line for line in waited.stdout.splitlines() if line.strip()]
        last = lines[-1] if lines else waited.note or f"exit {waited.exit_code}"
        return SyncRun("error", f"chronyc makestep: 200 OK, but not synchronised: {last}"), "chronyd", ""
    return (
        SyncRun("synced", "chronyc makestep: 200 OK; chronyc waitsync: synchronised", "step"),
        "chronyd",
        "",
    )


def _sync_chrony_stopped(
    c: Context, rec: StepRecorder, settings: Settings, facts: HostFacts
) -> tuple[SyncRun, str, str] | str:
    """chronyd is down: ``chronyd -q 'server X iburst'`` sets the clock once and exits."""
    chronyd = facts.tools.get("chronyd")
    if chronyd is None:
        return "chronyd is not on the PATH for a one-shot 'chronyd -q': reinstall chrony and run again"
    binary = shlex.quote(chronyd)
    result, server = _each_server(
        c,
        rec,
        settings,
        settings.ntp_servers,
        lambda server: f"{binary} -q {server_directive(server)}",
        parse_chronyd_q,
    )
    if result.kind == "busy":
        result = SyncRun("error", f"{result.message} (status said chronyd was stopped: a stray chronyd runs)")
    return result, server, ""


def _sync_timesyncd(
    c: Context, rec: StepRecorder, settings: Settings, service: TimeService, data: dict[str, object]
) -> tuple[SyncRun, str, str]:
    """systemd-timesyncd: ``timedatectl set-ntp true``, restart, wait for ``NTPSynchronized=yes``."""
    _run(c, rec, settings, "timedatectl set-ntp true")
    _run(c, rec, settings, service.restart())
    wait = math.ceil(settings.sync_wait)
    record = _run(c, rec, settings, wait_command(wait), timeout=wait + settings.command_timeout)
    state = parse_timedatectl(record.stdout)
    data["waited"] = record.duration
    if state.synchronised:
        return (
            SyncRun("synced", f"NTPSynchronized=yes after {record.duration:.0f} s", "step"),
            "timesyncd",
            "",
        )
    return SyncRun("error", f"NTPSynchronized not yes within {settings.sync_wait:g} s"), "timesyncd", ""


@step("one_shot_sync", title="one-shot sync", data=ClockSync, needs=("check_date",))
def one_shot_sync(
    c: Context,
    rec: StepRecorder,
    ntp_server: str | None = None,
    max_offset: float | None = None,
    dry_run: bool = False,
) -> StepResult:
    """Set the clock once, the way the host's daemon allows, when the offset is over ``max_offset``.

    ntpd/ntpsec: ntpdate (classic: on ``the NTP socket is in use`` stop the daemon, sync,
    start it again; ntpsec wrapper), else ntpdig, else ``ntpd -gq`` (``no servers found``
    with exit 0 is a failure). chronyd running: ``chronyc burst``, ``makestep``,
    ``waitsync``; stopped: ``chronyd -q``. systemd-timesyncd: set-ntp, restart, wait for
    ``NTPSynchronized=yes``. A backward step over ``max_backward_step`` is refused.
    """
    settings = settings_for(c, ntp_server=ntp_server, max_offset=max_offset)
    dry = rec.dry_run = dry_run or settings.dry_run
    facts = facts_for(c, rec, settings)
    data: dict[str, object] = {"fallback": False, "stepped": None, "server": None, "method": None}
    measured = _measured(rec, settings, facts)
    if measured is not None and abs(measured.offset) <= settings.max_offset:
        return rec.finish(
            Outcome.OK,
            f"offset {measured.offset:+.3f} s is within {settings.max_offset:g} s: not synced",
            **data,
        )
    chosen = _chosen(facts, data)
    if isinstance(chosen, str) and facts.choice().conflict:
        return rec.finish(Outcome.FAILED, chosen, **data)
    found = None if isinstance(chosen, str) else chosen
    refused = backward_refusal(settings, measured, first_offset(c))
    if refused:
        return rec.finish(Outcome.FAILED, refused, **data)
    family = found[0].daemon if found else "ntpd"
    off = "offset unknown" if measured is None else f"offset {measured.offset:+,.3f} s"
    if dry:
        how = {
            "chronyd": "chronyc burst + makestep" if found and found[1].running else "chronyd -q",
            "systemd-timesyncd": "timedatectl set-ntp true, a restart of systemd-timesyncd and a wait",
        }.get(family, f"{(_ntp_tool(facts, settings) or ('ntpdate',))[0]} {settings.ntp_servers[0]}")
        return rec.finish(Outcome.CHANGED, f"would set the clock with {how} ({off})", **data)
    done: tuple[SyncRun, str, str] | str
    if family == "chronyd" and found is not None:
        done = (
            _sync_chrony_running(c, rec, settings)
            if found[1].running
            else _sync_chrony_stopped(c, rec, settings, facts)
        )
        _panic_note(rec, measured, "chrony has no panic threshold; stepped with makestep / chronyd -q")
    elif family == "systemd-timesyncd" and found is not None:
        done = _sync_timesyncd(c, rec, settings, found[0], data)
        _panic_note(rec, measured, "timesyncd has no panic threshold and steps by itself")
    else:
        done = _sync_ntp(c, rec, settings, facts, found, data)
        _panic_note(rec, measured, f"{data.get('tool')} steps past it (ntpd -g would too; plain ntpd exits)")
    if isinstance(done, str):
        return rec.finish(Outcome.FAILED, done, **data)
    forget_facts(c)
    result, server, again = done
    data.update(server=server, method=result.method, address=result.address)
    if result.kind != "synced":
        return rec.finish(
            Outcome.FAILED, f"{data.get('tool') or family} {server}: {result.message}{again}", **data
        )
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
    return rec.finish(outcome, f"{did} with {data.get('tool') or result.message} ({server}){again}", **data)


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
    chosen = _chosen(facts, data)
    if isinstance(chosen, str):
        return rec.finish(Outcome.FAILED, chosen, **data)
    service, state = chosen
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
