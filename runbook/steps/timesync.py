"""Time daemon steps: restart it, one-shot sync with ntpdate (socket-in-use fallback), start + enable.

Changing commands run with ``sudo`` when ``settings.sudo_password`` is set; every value
from settings is quoted. A step that changed something forgets the cached facts.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from invoke.context import Context

from runbook import clock
from runbook.commands import StepRecorder, step
from runbook.facts import HostFacts, facts_for, forget_facts
from runbook.results import CommandRecord, Outcome, StepResult
from runbook.settings import Settings, settings_for
from runbook.steps.clock import PANIC_THRESHOLD, ClockUnreadable, host_offset
from runbook.timeservice import parse_service_actions

_NTPDATE_PREFIX = re.compile(r"^\s*\d{1,2} \w{3} \d{2}:\d{2}:\d{2} ntpdate\[\d+\]: ")
_NTPDATE_SET = re.compile(r"\b(step|adjust) time server (\S+) offset ([-+]?\d+(?:\.\d+)?) sec\b")
NO_DAEMON = "no supported time daemon found (this version drives ntpd under SysV init)"


@dataclass(frozen=True)
class NtpdateResult:
    """What one ``ntpdate`` run did: ``kind`` is synced, socket-in-use, no-server or error."""

    kind: str
    message: str
    method: str | None = None
    address: str | None = None
    offset: float | None = None


def parse_ntpdate(text: str, rc: int | None) -> NtpdateResult:
    """Classic ntpdate output (``DD Mon HH:MM:SS ntpdate[PID]: ...``) and exit code, read."""
    lines = [_NTPDATE_PREFIX.sub("", line).strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        found = _NTPDATE_SET.search(line)
        if found:
            method, address, offset = found.groups()
            return NtpdateResult("synced", line, method, address, float(offset))
    for line in lines:
        if "NTP socket is in use" in line:
            return NtpdateResult("socket-in-use", line)
        if "no server suitable for synchronization found" in line:
            return NtpdateResult("no-server", line)
    if rc == 0:
        return NtpdateResult("synced", lines[-1] if lines else "exit 0")
    return NtpdateResult("error", lines[-1] if lines else f"exit {rc}")


def _measured(rec: StepRecorder, settings: Settings, facts: HostFacts) -> clock.Measurement | None:
    try:
        return host_offset(settings, facts)
    except (ClockUnreadable, clock.NTPUnavailable) as exc:
        rec.warnings.append(f"offset not measured: {exc}")
        return None


@step("restart_daemon")
def restart_daemon(
    c: Context,
    rec: StepRecorder,
    ntp_server: str | None = None,
    max_offset: float | None = None,
    dry_run: bool = False,
) -> StepResult:
    """``service ntpd restart``, recording how stop and start went (``[  OK  ]`` / ``[FAILED]``).

    ``ok`` without running anything when the daemon runs, is synchronised and the offset is
    within ``max_offset``: a healthy host is not disturbed. ``changed`` when start succeeded
    (stop may have failed: the daemon was not running), ``failed`` when start failed.
    """
    settings = settings_for(c, ntp_server=ntp_server, max_offset=max_offset)
    dry = rec.dry_run = dry_run or settings.dry_run
    facts = facts_for(c, rec, settings)
    found = facts.service()
    if found is None:
        return rec.finish(Outcome.FAILED, f"{NO_DAEMON}; init: {facts.init}", init=facts.init)
    service, state = found
    data: dict[str, object] = {"stop": None, "start": None, "daemon": service.daemon, "init": service.init}
    measured = _measured(rec, settings, facts)
    reasons = []
    if not state.running:
        reasons.append("not running")
    elif not facts.sync.synchronised:
        reasons.append("not synchronised")
    if measured is None or abs(measured.offset) > settings.max_offset:
        reasons.append("offset unknown" if measured is None else f"offset {measured.offset:+,.3f} s")
    if not reasons:
        return rec.finish(
            Outcome.OK,
            f"{service.daemon} running and synchronised to {facts.sync.peer}: not restarted",
            **data,
        )
    if dry:
        return rec.finish(Outcome.CHANGED, f"would restart {service.daemon} ({', '.join(reasons)})", **data)
    if measured is not None and abs(measured.offset) > PANIC_THRESHOLD:
        rec.warnings.append(
            f"offset over ntpd's {PANIC_THRESHOLD:g} s panic threshold: without -g {service.daemon} "
            "may exit; the one-shot sync fixes the clock"
        )
    record = rec.run(
        c, service.restart(), timeout=settings.command_timeout, sudo_password=settings.sudo_password
    )
    forget_facts(c)
    actions = parse_service_actions(f"{record.stdout}\n{record.stderr}")
    start = actions["start"] or ("ok" if record.ok else "failed")
    data.update(stop=actions["stop"], start=start)
    said = ", ".join(
        f"{name} {value.upper()}" for name, value in (("stop", actions["stop"]), ("start", start)) if value
    )
    if actions["stop"] == "failed":
        said = said.replace("stop FAILED", "stop FAILED (was not running)")
    outcome = Outcome.CHANGED if start == "ok" else Outcome.FAILED
    return rec.finish(outcome, f"{service.restart()}: {said}", **data)


def _ntpdate_each(
    c: Context, rec: StepRecorder, settings: Settings, ntpdate: str
) -> tuple[NtpdateResult, str]:
    """ntpdate against each server in turn until one syncs (or the socket is in use)."""
    tried: list[tuple[NtpdateResult, str]] = []
    for server in settings.ntp_servers:
        record = rec.run(
            c,
            f"{shlex.quote(ntpdate)} {shlex.quote(server)}",
            timeout=settings.command_timeout,
            sudo_password=settings.sudo_password,
        )
        result = parse_ntpdate(f"{record.stdout}\n{record.stderr}", record.exit_code)
        if record.exit_code is None:
            result = NtpdateResult("error", record.note or "did not finish")
        tried.append((result, server))
        if result.kind in {"synced", "socket-in-use"}:
            return result, server
    if len(tried) > 1:
        names = ", ".join(server for _, server in tried)
        last, server = tried[-1]
        return NtpdateResult(last.kind, f"{last.message} (tried {names})"), server
    return tried[-1]


def _service_run(c: Context, rec: StepRecorder, settings: Settings, command: str) -> CommandRecord:
    return rec.run(c, command, timeout=settings.command_timeout, sudo_password=settings.sudo_password)


@step("one_shot_sync")
def one_shot_sync(
    c: Context,
    rec: StepRecorder,
    ntp_server: str | None = None,
    max_offset: float | None = None,
    dry_run: bool = False,
) -> StepResult:
    """Set the clock once with ``ntpdate SERVER`` when the offset is over ``max_offset``.

    When ntpdate answers ``the NTP socket is in use`` (ntpd holds UDP 123): stop ntpd, run
    ntpdate again, and start ntpd again whether or not the sync worked. Several servers
    are tried in order. ``failed`` with a clear message for ``no server suitable for
    synchronization found``, a missing ntpdate, or ntpd not starting again.
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
    ntpdate = facts.tools.get("ntpdate")
    if ntpdate is None:
        return rec.finish(
            Outcome.FAILED,
            "ntpdate is not installed on the host: install it (yum install ntpdate) and run again; "
            "nothing changed",
            **data,
        )
    off = "offset unknown" if measured is None else f"offset {measured.offset:+,.3f} s"
    if dry:
        return rec.finish(
            Outcome.CHANGED,
            f"would set the clock with ntpdate {settings.ntp_servers[0]} ({off}), "
            "stopping ntpd around it if it holds the NTP socket",
            **data,
        )
    result, server = _ntpdate_each(c, rec, settings, ntpdate)
    forget_facts(c)
    started: CommandRecord | None = None
    if result.kind == "socket-in-use":
        found = facts.service()
        if found is None:
            return rec.finish(Outcome.FAILED, f"ntpdate: {result.message}, and {NO_DAEMON} to stop", **data)
        service = found[0]
        data["fallback"] = True
        _service_run(c, rec, settings, service.stop())
        try:
            result, server = _ntpdate_each(c, rec, settings, ntpdate)
        finally:
            started = _service_run(c, rec, settings, service.start())
    data.update(server=server, method=result.method, address=result.address)
    again = ""
    if started is not None:
        start_state = parse_service_actions(started.stdout)["start"] or ("ok" if started.ok else "failed")
        data["start"] = start_state
        if start_state != "ok":
            rec.warnings.append("ntpd did not start again after the sync")
            again = "; ntpd did NOT start again"
        else:
            again = "; ntpd held the NTP socket: stopped it for the sync and started it again"
    if result.kind != "synced":
        return rec.finish(Outcome.FAILED, f"ntpdate {server}: {result.message}{again}", **data)
    data["stepped"] = result.offset
    did = (
        f"{'stepped' if result.method == 'step' else 'slewed'} the clock {result.offset:+,.6f} s"
        if result.offset is not None
        else "set the clock"
    )
    outcome = Outcome.FAILED if started is not None and data.get("start") != "ok" else Outcome.CHANGED
    return rec.finish(outcome, f"{did} from {server}{again}", **data)


@step("start_enable_daemon")
def start_enable_daemon(
    c: Context,
    rec: StepRecorder,
    dry_run: bool = False,
) -> StepResult:
    """Start the time daemon if it is not running and enable it at boot (``chkconfig ntpd on``).

    ``ok`` when it already runs and is enabled; ``changed`` after starting and/or enabling it.
    """
    settings = settings_for(c)
    dry = rec.dry_run = dry_run or settings.dry_run
    facts = facts_for(c, rec, settings)
    found = facts.service()
    if found is None:
        return rec.finish(Outcome.FAILED, f"{NO_DAEMON}; init: {facts.init}", init=facts.init)
    service, state = found
    todo = []
    if not state.running:
        todo.append(("start", service.start()))
    if state.enabled is not True:
        todo.append(("enable at boot", service.enable()))
    data: dict[str, object] = {"daemon": service.daemon, "running": state.running, "enabled": state.enabled}
    if not todo:
        levels = "-".join(str(level) for level in (state.runlevels[0], state.runlevels[-1]))
        return rec.finish(
            Outcome.OK, f"{service.daemon} running and enabled at boot (runlevels {levels})", **data
        )
    what = " and ".join(name for name, _ in todo)
    if dry:
        return rec.finish(Outcome.CHANGED, f"would {what} {service.daemon}", **data)
    done = {name: _service_run(c, rec, settings, command).ok for name, command in todo}
    forget_facts(c)
    data.update(
        running=state.running or done.get("start", False),
        enabled=True if done.get("enable at boot") else state.enabled,
    )
    failed = [name for name, ok in done.items() if not ok]
    if failed:
        return rec.finish(Outcome.FAILED, f"could not {' and '.join(failed)} {service.daemon}", **data)
    return rec.finish(Outcome.CHANGED, f"{what}: {service.daemon}", **data)
