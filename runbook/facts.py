"""What a host is and how its time and backup stand, parsed from the one probe.

Every ``parse_*`` function is pure and never raises on odd input: unknown stays ``None``.
``facts_for(c, rec, settings)`` runs the probe once per connection (the clock samples in the
same session when ``c`` is a Fabric connection), records it on the calling step, and caches
the ``HostFacts`` on the connection; ``forget_facts(c)`` drops them after a change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from invoke.context import Context

from runbook import clock
from runbook.commands import StepRecorder
from runbook.probe import clock_command, new_token, probe_command, split_sections
from runbook.settings import BackupSettings, Settings
from runbook.timeservice import SERVICES, TimeService, parse_chkconfig

_KEY = "_runbook_facts"
_PINNED_MARK = "_runbook_probe_token"
_PEER_LINE = re.compile(r"^([*+\-x.#o ])(\S+)\s+\S+\s+\d+\s")


class ProbeError(Exception):
    """The probe could not run or answered nothing usable; the message says what came back."""


@dataclass(frozen=True)
class DaemonState:
    """One time daemon: installed, running (init script status 0), enabled at boot, pid file."""

    name: str
    installed: bool
    running: bool
    enabled: bool | None
    runlevels: tuple[int, ...] = ()
    pid_file: str = "unknown"
    status: str = ""
    status_rc: int | None = None


@dataclass(frozen=True)
class SyncState:
    """Whether the daemon is synchronised (``None``: could not tell), its system peer, the evidence."""

    synchronised: bool | None
    peer: str | None = None
    source: str | None = None
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class BackupEvidence:
    """The backup's evidence: last success (epoch, from the file), check exit code, what was seen."""

    last_success: float | None
    check_rc: int | None
    output: str = ""
    error: str | None = None


@dataclass(frozen=True)
class HostFacts:
    """Everything the probe found; ``clock`` is the best clock sample (``None`` if unreadable)."""

    hostname: str
    os: str
    init: str
    daemons: tuple[DaemonState, ...]
    sync: SyncState
    tools: Mapping[str, str] = field(default_factory=dict)
    backup: BackupEvidence | None = None
    clock: clock.ClockSample | None = None
    host_date: int | None = None
    cron: str | None = None

    def daemon(self, name: str) -> DaemonState | None:
        return next((d for d in self.daemons if d.name == name), None)

    def service(self) -> tuple[TimeService, DaemonState] | None:
        """The installed daemon the steps drive, with its state (``None``: no supported daemon)."""
        for service in SERVICES:
            state = self.daemon(service.daemon)
            if state is not None and state.installed and service.init == self.init:
                return service, state
        return None

    def header(self) -> dict[str, Any]:
        """The record header's host facts."""
        found = self.service()
        return {
            "hostname": self.hostname,
            "os": self.os,
            "init": self.init,
            "daemon": found[0].daemon if found else None,
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tools"] = dict(self.tools)
        return data


def cached_facts(c: Context) -> HostFacts | None:
    """The facts already probed on ``c``, if any."""
    found = c.__dict__.get(_KEY)
    return found if isinstance(found, HostFacts) else None


def forget_facts(c: Context) -> None:
    """Drop ``c``'s cached facts: the next ``facts_for`` probes again."""
    c.__dict__.pop(_KEY, None)


def facts_for(c: Context, rec: StepRecorder, settings: Settings) -> HostFacts:
    """``c``'s facts, probing once per connection; the probe is recorded on ``rec``.

    A Fabric connection gets one command: clock samples in the probe's own session. Other
    contexts (``invoke.Context``, ``MockContext``) get a ``date`` batch, then the probe.
    Raises ``ProbeError`` when the probe fails. Section headers carry a fresh random token
    (one pinned as ``c._runbook_probe_token`` is used instead: canned test outputs).
    """
    cached = cached_facts(c)
    if cached is not None:
        return cached
    pinned = c.__dict__.get(_PINNED_MARK)
    token = pinned if isinstance(pinned, str) else new_token()
    if clock.has_transport(c):
        command = "LC_ALL=C " + probe_command(settings, clock_loop=True, token=token)
        record, method, timings = clock.sample_session(c, command, settings.samples, settings.command_timeout)
        rec.commands.append(record)
        sample = clock.best_sample(method, timings)
    else:
        batch = rec.run(c, clock_command(settings.samples), timeout=settings.command_timeout)
        sample = clock.batch_sample(batch)
        record = rec.run(
            c, probe_command(settings, clock_loop=False, token=token), timeout=settings.command_timeout
        )
    if record.exit_code != 0 or "@@runbook:" not in record.stdout:
        detail = (record.stderr or record.note or record.stdout).strip()[-300:]
        raise ProbeError(f"the probe failed (exit {record.exit_code}): {detail or 'no output'}")
    facts = parse_facts(split_sections(record.stdout, token), settings.backup, sample)
    object.__setattr__(c, _KEY, facts)
    return facts


def parse_facts(
    sections: Mapping[str, str], backup: BackupSettings | None, sample: clock.ClockSample | None
) -> HostFacts:
    """``HostFacts`` from the probe's sections."""
    date = sections.get("date", "").strip()
    return HostFacts(
        hostname=sections.get("hostname", "").strip(),
        os=parse_os(sections.get("os", "")),
        init=sections.get("init", "").strip() or "unknown",
        daemons=tuple(parse_daemon(sections, service.daemon) for service in SERVICES),
        sync=parse_sync(sections),
        tools=parse_tools(sections.get("tools", "")),
        backup=None if backup is None else parse_backup(sections, backup),
        clock=sample,
        host_date=int(date) if date.isdigit() and date.isascii() else None,
        cron=sections.get("cron"),
    )


def parse_rc(text: str | None) -> int | None:
    """An exit code section's number, ``None`` when absent or not a number."""
    value = (text or "").strip()
    return int(value) if value.isdigit() and value.isascii() and len(value) < 4 else None


def parse_os(text: str) -> str:
    """``CentOS release 6.10 (Final)``, or os-release's PRETTY_NAME without its quotes."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line.strip("\"'") or "unknown"


def _fields(text: str) -> dict[str, str]:
    pairs = (line.partition("=") for line in text.splitlines())
    return {key.strip(): value.strip() for key, sep, value in pairs if sep}


def parse_daemon(sections: Mapping[str, str], name: str) -> DaemonState:
    """A daemon's state from its ``daemon.NAME`` sections (status exit 0 = running)."""
    base = f"daemon.{name}"
    fields = _fields(sections.get(base, ""))
    status_rc = parse_rc(sections.get(f"{base}.status.rc"))
    enabled, levels = parse_chkconfig(
        sections.get(f"{base}.enabled", ""), parse_rc(sections.get(f"{base}.enabled.rc"))
    )
    return DaemonState(
        name=name,
        installed=fields.get("installed") == "yes",
        running=status_rc == 0,
        enabled=enabled,
        runlevels=levels,
        pid_file=fields.get("pidfile", "unknown"),
        status=sections.get(f"{base}.status", "").strip(),
        status_rc=status_rc,
    )


def parse_ntpq(text: str) -> SyncState:
    """Sync state from ``ntpq -pn``: synchronised when a peer carries the ``*`` tally."""
    lines = tuple(line for line in text.splitlines() if line.strip())
    peers = [m for m in (_PEER_LINE.match(line) for line in lines) if m]
    if not peers:
        return SyncState(synchronised=None, source="ntpq", lines=lines)
    system = next((m.group(2) for m in peers if m.group(1) in "*o"), None)
    return SyncState(synchronised=system is not None, peer=system, source="ntpq", lines=lines)


def parse_ntpstat(text: str, rc: int | None) -> SyncState:
    """Sync state from ``ntpstat``'s exit code: 0 synchronised, 1 not, anything else unknown."""
    lines = tuple(line for line in text.splitlines() if line.strip())
    found = re.search(r"synchronised to .*?\(([^)]+)\)|synchronised to (\S+)", text)
    peer = (found.group(1) or found.group(2)) if found and rc == 0 else None
    state = {0: True, 1: False}.get(rc) if rc is not None else None
    return SyncState(synchronised=state, peer=peer, source="ntpstat", lines=lines)


def parse_sync(sections: Mapping[str, str]) -> SyncState:
    """``ntpq -pn`` decides when it printed peers, else ``ntpstat``, else unknown."""
    if "sync.ntpq" in sections and parse_rc(sections.get("sync.ntpq.rc")) == 0:
        state = parse_ntpq(sections["sync.ntpq"])
        if state.synchronised is not None:
            return state
    if "sync.ntpstat" in sections:
        return parse_ntpstat(sections["sync.ntpstat"], parse_rc(sections.get("sync.ntpstat.rc")))
    if "sync.ntpq" in sections:
        return parse_ntpq(sections["sync.ntpq"])
    return SyncState(synchronised=None)


def parse_tools(text: str) -> dict[str, str]:
    """``{tool: path}`` from ``NAME PATH`` lines."""
    tools: dict[str, str] = {}
    for line in text.splitlines():
        name, _, path = line.strip().partition(" ")
        if name and path.startswith("/"):
            tools[name] = path.strip()
    return tools


def parse_timestamp(text: str) -> float | None:
    """Epoch seconds from the last line that is epoch seconds or ISO 8601 (naive = UTC)."""
    for line in reversed(text.splitlines()):
        value = line.strip()
        if re.fullmatch(r"\d{1,12}(\.\d+)?", value):
            return float(value)
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    return None


def parse_backup(sections: Mapping[str, str], backup: BackupSettings) -> BackupEvidence:
    """The backup evidence: the file's timestamp and/or the check command's exit code and output."""
    last: float | None = None
    errors: list[str] = []
    output: list[str] = []
    if backup.evidence_file:
        text = sections.get("backup.file", "")
        rc = parse_rc(sections.get("backup.file.rc"))
        if rc != 0:
            seen = text.strip()[-200:] or "no output"
            errors.append(f"evidence file {backup.evidence_file} unreadable: {seen}")
        else:
            last = parse_timestamp(text)
            if last is None:
                seen = text.strip()[:80]
                errors.append(f"evidence file {backup.evidence_file} holds no timestamp: {seen!r}")
        output.append(text)
    check_rc: int | None = None
    if backup.check_command:
        check_rc = parse_rc(sections.get("backup.check.rc"))
        output.append(sections.get("backup.check", ""))
        if check_rc is None:
            errors.append("the check command did not report an exit code")
    return BackupEvidence(
        last_success=last,
        check_rc=check_rc,
        output="\n".join(part for part in output if part).strip(),
        error="; ".join(errors) or None,
    )
