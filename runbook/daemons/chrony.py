"""chrony: its driver, ``chronyc`` replies and tracking, ``chronyd -q``, and chrony.conf's ``makestep``."""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from runbook import shell
from runbook.daemons import (
    Runner,
    SyncKind,
    SyncRun,
    SyncState,
    each_server,
    lines_of,
    output_of,
    wait_script,
)
from runbook.timeservice import TimeService

if TYPE_CHECKING:
    from runbook.facts import HostFacts
    from runbook.settings import Settings

_FIELD = re.compile(r"^([A-Za-z][A-Za-z ()]*?)\s*:\s*(.*)$")
_SYSTEM_TIME = re.compile(r"^([-+]?\d+(?:\.\d+)?) seconds (slow|fast) of NTP time")
_REF_ID = re.compile(r"^([0-9A-Fa-f]{8})\s*(?:\(([^)]*)\))?")
_REPLY = re.compile(r"^(\d{3}) (.+)$")
_WRONG_BY = re.compile(r"System clock wrong by ([-+]?\d+(?:\.\d+)?) seconds(?: \((step|slew)\))?")
LOCAL_REF = "7F7F0101"


@dataclass(frozen=True)
class Tracking:
    """``chronyc -n tracking``: synchronised, reference, offset (+ = host behind), or the error."""

    synchronised: bool | None
    reference: str | None = None
    offset: float | None = None
    leap: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Makestep:
    """chrony.conf's ``makestep THRESHOLD LIMIT`` (``None``: no directive), and the files read."""

    threshold: float | None
    limit: int | None
    files: tuple[str, ...] = ()


def parse_reply(text: str, rc: int | None) -> tuple[int | None, str]:
    """A chronyc command's status reply: ``(200, "OK")``, ``(506, "Cannot talk to daemon")``.

    ``(None, last line)`` when no numbered reply was printed (the exit code alone decides).
    """
    for line in lines_of(text):
        found = _REPLY.match(line)
        if found:
            return int(found.group(1)), found.group(2)
    lines = lines_of(text)
    return None, lines[-1] if lines else f"exit {rc}"


def parse_tracking(text: str, rc: int | None) -> Tracking:
    """``chronyc -n tracking`` read; 506 (daemon not running) and 501 give ``error``."""
    code, said = parse_reply(text, rc)
    if code is not None and code != 200:
        return Tracking(synchronised=None, error=f"{code} {said}")
    fields = {}
    for line in lines_of(text):
        found = _FIELD.match(line)
        if found:
            fields[found.group(1).strip()] = found.group(2).strip()
    if rc != 0 or "Reference ID" not in fields:
        return Tracking(synchronised=None, error=said)
    ref = _REF_ID.match(fields["Reference ID"])
    ref_id, name = (ref.group(1).upper(), ref.group(2) or None) if ref else ("", None)
    leap = fields.get("Leap status")
    offset = None
    system = _SYSTEM_TIME.match(fields.get("System time", ""))
    if system:
        offset = float(system.group(1)) * (1 if system.group(2) == "slow" else -1)
    synced = leap is not None and leap != "Not synchronised" and ref_id not in {"", "00000000"}
    return Tracking(
        synchronised=synced,
        reference=name or (ref_id if ref_id not in {"", "00000000"} else None),
        offset=offset,
        leap=leap,
    )


def parse_chronyd_q(text: str, rc: int | None) -> SyncRun:
    """``chronyd -q`` read: ``System clock wrong by X seconds (step)`` is success (+ = was behind).

    ``Another chronyd may already be running`` is ``busy``; exit 0 without a correction line
    (already right) is ``synced`` with no offset; no server answering is ``no-server``.
    """
    lines = lines_of(text)
    for line in lines:
        found = _WRONG_BY.search(line)
        if found:
            method = "adjust" if found.group(2) == "slew" else "step"
            return SyncRun(SyncKind.SYNCED, line, method, None, float(found.group(1)))
    for line in lines:
        if "Another chronyd may already be running" in line:
            return SyncRun(SyncKind.BUSY, line)
        if "No suitable source" in line or "no selectable sources" in line.lower():
            return SyncRun(SyncKind.NO_SERVER, line)
    if rc == 0:
        return SyncRun(SyncKind.SYNCED, lines[-1] if lines else "exit 0")
    return SyncRun(SyncKind.ERROR, lines[-1] if lines else f"exit {rc}")


def parse_makestep(text: str) -> Makestep:
    """The ``chrony.conf`` section of the probe: ``file PATH`` lines and ``makestep`` lines (last wins)."""
    files: list[str] = []
    threshold: float | None = None
    limit: int | None = None
    for line in lines_of(text):
        if line.startswith("file "):
            files.append(line[5:].strip())
            continue
        words = line.split()
        if words[:1] == ["makestep"] and len(words) >= 3:
            try:
                threshold, limit = float(words[1]), int(words[2])
            except ValueError:
                continue
    return Makestep(threshold=threshold, limit=limit, files=tuple(files))


def makestep_warning(conf: Makestep) -> str | None:
    """Why chrony could not recover from a suspended VM on its own, or ``None`` when it can.

    ``makestep T -1`` steps whenever the error is over T; ``makestep 1 3`` only in the first
    3 updates, so a multi-hour error found later is slewed for days; no directive never steps.
    """
    where = ", ".join(conf.files) or "no chrony.conf found"
    if conf.threshold is None or conf.limit is None:
        return (
            f"chrony.conf ({where}) has no makestep: chronyd never steps; "
            "add 'makestep 1 -1' for VMs that are suspended"
        )
    if conf.limit >= 0:
        return (
            f"chrony.conf ({where}) has 'makestep {conf.threshold:g} {conf.limit}': chronyd steps only "
            f"in its first {conf.limit} updates, so after a suspend it slews for hours; "
            "the chrony FAQ advises 'makestep 1 -1'"
        )
    return None


def server_directive(server: str) -> str:
    """``'server NAME iburst'`` quoted for ``chronyd -q``."""
    return shlex.quote(f"server {server} iburst")


def waitsync_command(tries: int, interval: float = 1.0) -> str:
    """``chronyc waitsync TRIES 0 0 INTERVAL``: exit 0 once synchronised, at most TRIES checks."""
    return f"chronyc waitsync {max(1, int(tries))} 0 0 {interval:g}"


def tracking_state(sections: Mapping[str, str]) -> SyncState:
    """chronyd's sync state from section ``sync.chronyc`` (``chronyc -n tracking``)."""
    text = sections.get("sync.chronyc")
    if text is None:
        return SyncState(synchronised=None)
    tracking = parse_tracking(text, shell.section_rc(sections.get("sync.chronyc.rc")))
    lines = tuple(line for line in text.splitlines() if line.strip())
    return SyncState(tracking.synchronised, tracking.reference, "chronyc", lines)


def _sync_running(run: Runner, settings: Settings, driver: ChronyDriver, token: str) -> SyncRun:
    """chronyd runs: ``burst 4/4``, wait for the measurements (bounded), ``makestep``, wait for sync."""
    burst = run("chronyc burst 4/4")
    code, said = parse_reply(output_of(burst), burst.exit_code)
    if not burst.ok or (code is not None and code != 200):
        message = f"chronyc burst: {code or ''} {said}".replace("  ", " ")
        return SyncRun(SyncKind.ERROR, message)
    tries = max(1, math.ceil(min(settings.ntp.sync_wait, 30.0)))
    run(waitsync_command(tries), tries + settings.fleet.command_timeout)
    stepped = run("chronyc makestep")
    code, said = parse_reply(output_of(stepped), stepped.exit_code)
    if code != 200:
        why = {506: " (chronyd is not running)", 501: " (not authorised: run as root)"}.get(code or 0, "")
        return SyncRun(SyncKind.ERROR, f"chronyc makestep: {code or ''} {said}{why}".strip())
    wait = math.ceil(settings.ntp.sync_wait)
    waited = run(driver.wait_command(wait, token), wait + settings.fleet.command_timeout)
    state = driver.sync_state(shell.split_sections(waited.stdout, token))
    if not state.synchronised:
        last = state.lines[-1] if state.lines else waited.note or f"exit {waited.exit_code}"
        return SyncRun(SyncKind.ERROR, f"chronyc makestep: 200 OK, but not synchronised: {last}")
    return SyncRun(
        SyncKind.SYNCED,
        "chronyc makestep: 200 OK; chronyc waitsync: synchronised",
        "step",
        server=state.peer,
        tool="chronyc makestep",
    )


def _sync_stopped(run: Runner, facts: HostFacts, settings: Settings) -> SyncRun:
    """chronyd is down: ``chronyd -q 'server X iburst'`` sets the clock once and exits."""
    chronyd = facts.tools.get("chronyd")
    if chronyd is None:
        return SyncRun(
            SyncKind.NO_TOOL,
            "chronyd is not on the PATH for a one-shot 'chronyd -q': reinstall chrony and run again",
        )
    binary = shlex.quote(chronyd)
    result = each_server(
        run, settings.ntp.servers, lambda server: f"{binary} -q {server_directive(server)}", parse_chronyd_q
    )
    if result.kind is SyncKind.BUSY:
        message = f"{result.message} (status said chronyd was stopped: a stray chronyd runs)"
        return SyncRun(SyncKind.ERROR, message, server=result.server)
    return replace(result, tool="chronyd -q")


@dataclass(frozen=True)
class ChronyDriver:
    """chronyd: tracking for its state, ``chronyc waitsync`` to wait, burst + makestep or ``chronyd -q``."""

    family: str = "chronyd"
    services: tuple[TimeService, ...] = (
        TimeService("chronyd", "systemd", "chronyd", "chronyd"),
        TimeService("chronyd", "systemd", "chrony", "chronyd"),
        TimeService("chronyd", "openrc", "chronyd", "chronyd"),
        TimeService("chronyd", "sysv", "chronyd", "chronyd", "/var/run/chronyd.pid"),
        TimeService("chronyd", "sysv", "chrony", "chronyd", "/run/chrony/chronyd.pid"),
    )
    fragment: str = "chrony.sh"
    exits_on_panic: bool = False
    unsynchronised: str = "chronyc tracking: not synchronised"
    panic_note: str = "chrony has no panic threshold; stepped with makestep / chronyd -q"

    def sync_state(self, sections: Mapping[str, str]) -> SyncState:
        return tracking_state(sections)

    def wait_command(self, seconds: int, token: str) -> str:
        """``chronyc waitsync`` (once a second), then ``chronyc -n tracking``."""
        return wait_script(__package__ or "runbook.daemons", "chrony_wait.sh", seconds, token)

    def before_restart(self) -> tuple[str, ...]:
        return ()

    def warnings(self, facts: HostFacts) -> tuple[str, ...]:
        warning = None if facts.makestep is None else makestep_warning(facts.makestep)
        return () if warning is None else (warning,)

    def one_shot_plan(self, facts: HostFacts, settings: Settings, running: bool) -> str:
        return "chronyc burst + makestep" if running else "chronyd -q"

    def one_shot(
        self,
        run: Runner,
        facts: HostFacts,
        settings: Settings,
        service: TimeService | None,
        running: bool,
        token: str,
    ) -> SyncRun:
        """Running: ``chronyc burst``, ``makestep`` and a wait for sync; stopped: ``chronyd -q``."""
        return _sync_running(run, settings, self, token) if running else _sync_stopped(run, facts, settings)


DRIVER = ChronyDriver()
