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

from runbook import clock, ntpd_options
from runbook.commands import StepRecorder
from runbook.cron.window import MIN_LAG
from runbook.daemons.chrony import Makestep, Tracking, parse_makestep, parse_tracking
from runbook.daemons.timesyncd import Timedatectl, parse_timedatectl
from runbook.errors import NTPUnavailable, ProbeError
from runbook.probe import clock_command, new_token, probe_command, split_sections
from runbook.session import session_of
from runbook.settings import BackupSettings, Settings
from runbook.timeservice import (
    FAMILIES,
    TimeService,
    parse_chkconfig,
    parse_is_enabled,
    parse_rc_update,
    service_named,
)

_BOOT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PEER_LINE = re.compile(r"^([*+\-x.#o ])(\S+)\s+\S+\s+\d+\s")


@dataclass(frozen=True)
class DaemonState:
    """One daemon family: installed (as service ``service``), running (status exit 0), enabled at boot."""

    name: str
    installed: bool
    running: bool
    enabled: bool | None
    runlevels: tuple[int, ...] = ()
    pid_file: str = "unknown"
    status: str = ""
    status_rc: int | None = None
    service: str = ""


@dataclass(frozen=True)
class DaemonChoice:
    """The daemon the steps drive (``None``: none installed, or a conflict), and why."""

    service: TimeService | None
    state: DaemonState | None
    note: str | None = None
    conflict: str | None = None


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
    chrony: Tracking | None = None
    makestep: Makestep | None = None
    timedatectl: Timedatectl | None = None
    ntpdate_flavour: str | None = None
    rtc: bool | None = None
    boot_id: str | None = None
    ntpd_without_g: str | None = None

    def daemon(self, name: str) -> DaemonState | None:
        return next((d for d in self.daemons if d.name == name), None)

    def choice(self) -> DaemonChoice:
        """The daemon to drive: see ``choose_daemon``."""
        return choose_daemon(self.daemons, self.init)

    def service(self) -> tuple[TimeService, DaemonState] | None:
        """The daemon the steps drive, with its state (``None``: none installed, or a conflict)."""
        chosen = self.choice()
        if chosen.service is None or chosen.state is None:
            return None
        return chosen.service, chosen.state

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
    return session_of(c).facts


def forget_facts(c: Context) -> None:
    """Drop ``c``'s cached facts: the next ``facts_for`` probes again."""
    session_of(c).facts = None


def facts_for(c: Context, rec: StepRecorder, settings: Settings) -> HostFacts:
    """``c``'s facts, probing once per connection; the probe is recorded on ``rec``.

    A Fabric connection gets one command: clock samples in the probe's own session. Other
    contexts (``invoke.Context``, ``MockContext``) get a ``date`` batch, then the probe.
    Raises ``ProbeError`` when the probe fails. Section headers carry the session's
    ``probe_token``, a fresh random one unless a test pinned it.
    """
    cached = cached_facts(c)
    if cached is not None:
        return cached
    pinned = session_of(c).probe_token
    token = pinned if pinned is not None else new_token()
    if clock.has_transport(c):
        command = probe_command(settings, clock_loop=True, token=token)
        record, method, timings = clock.sample_session(
            c,
            command,
            settings.samples,
            settings.command_timeout,
            lambda method, timings: cron_scope(settings, clock.best_sample(method, timings)),
        )
        rec.commands.append(record)
        sample = clock.best_sample(method, timings)
    else:
        batch = rec.run(c, clock_command(settings.samples), timeout=settings.command_timeout)
        sample = clock.batch_sample(batch)
        command = probe_command(settings, clock_loop=False, token=token, cron=cron_scope(settings, sample))
        record = rec.run(c, command, timeout=settings.command_timeout)
    if record.exit_code != 0 or "@@runbook:" not in record.stdout:
        detail = (record.stderr or record.note or record.stdout).strip()[-300:]
        raise ProbeError(f"the probe failed (exit {record.exit_code}): {detail or 'no output'}")
    facts = parse_facts(split_sections(record.stdout, token), settings.backup, sample)
    session_of(c).facts = facts
    return facts


def cron_scope(settings: Settings, sample: clock.ClockSample | None) -> str:
    """How much of the cron setup the probe reads (``probe.CRON_SCOPES``), given the host's clock.

    ``boot`` when no window is given and the clock is measured within ``MIN_LAG`` of the
    reference: only a recent boot could then make a window, and the probe reads the files
    if it finds one. ``all`` otherwise, and whenever the offset cannot be measured.
    """
    if settings.window is not None or sample is None:
        return "all"
    try:
        offset = clock.measure(sample, clock.reference_time(settings)).offset
    except NTPUnavailable:
        return "all"
    return "boot" if abs(offset) < MIN_LAG else "all"


def parse_facts(
    sections: Mapping[str, str], backup: BackupSettings | None, sample: clock.ClockSample | None
) -> HostFacts:
    """``HostFacts`` from the probe's sections."""
    date = sections.get("date", "").strip()
    init = sections.get("init", "").strip() or "unknown"
    daemons = tuple(parse_daemon(sections, family) for family in FAMILIES)
    chosen = choose_daemon(daemons, init).service
    family = chosen.daemon if chosen else "ntpd"
    chrony = sections.get("sync.chronyc")
    timedatectl = sections.get("sync.timedatectl")
    flavour = sections.get("ntpdate", "").strip()
    rtc = sections.get("rtc", "").strip()
    return HostFacts(
        hostname=sections.get("hostname", "").strip(),
        os=parse_os(sections.get("os", "")),
        init=init,
        daemons=daemons,
        sync=parse_sync(sections, family),
        tools=parse_tools(sections.get("tools", "")),
        backup=None if backup is None else parse_backup(sections, backup),
        clock=sample,
        host_date=int(date) if date.isdigit() and date.isascii() else None,
        cron=sections.get("cron"),
        chrony=None if chrony is None else parse_tracking(chrony, parse_rc(sections.get("sync.chronyc.rc"))),
        makestep=parse_makestep(sections["chrony.conf"]) if "chrony.conf" in sections else None,
        timedatectl=None if timedatectl is None else parse_timedatectl(timedatectl),
        ntpdate_flavour=flavour if flavour in {"classic", "ntpsec"} else None,
        rtc={"yes": True, "no": False}.get(rtc),
        boot_id=parse_boot_id(sections.get("boot_id", "")),
        ntpd_without_g=ntpd_options.without_panic_gate(sections.get("ntpd.options")),
    )


def parse_boot_id(text: str) -> str | None:
    """The kernel's boot id (``/proc/sys/kernel/random/boot_id``, a UUID), ``None`` when absent or odd."""
    value = text.strip().lower()
    return value if _BOOT_ID.fullmatch(value) else None


def choose_daemon(daemons: tuple[DaemonState, ...], init: str) -> DaemonChoice:
    """The one daemon to drive among those installed.

    The one enabled at boot; with none enabled, the one running; with neither, the first
    in ``FAMILIES`` order. Two enabled (or, none enabled, two running) is a conflict: they
    would fight over the clock, and the operator decides which one goes.
    """
    installed = [
        (service, state)
        for state in daemons
        if state.installed and (service := service_named(state.name, init, state.service)) is not None
    ]
    if not installed:
        return DaemonChoice(None, None)
    names = " and ".join(state.name for _, state in installed)
    for picked, why in (("enabled", "enabled at boot"), ("running", "running")):
        found = [(s, d) for s, d in installed if getattr(d, picked)]
        if len(found) > 1:
            which = " and ".join(d.name for _, d in found)
            disable = "; ".join(f"{s.stop()} && disable it" for s, _ in found[1:])
            return DaemonChoice(
                None,
                None,
                conflict=f"{which} are all {why}: they would fight over the clock; keep one "
                f"(e.g. {disable}) and run again",
            )
        if found:
            service, state = found[0]
            note = f"{names} installed: driving {state.name}, the one {why}" if len(installed) > 1 else None
            return DaemonChoice(service, state, note)
    service, state = installed[0]
    note = f"{names} installed, none enabled or running: driving {state.name}" if len(installed) > 1 else None
    return DaemonChoice(service, state, note)


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
    """A daemon family's state from its ``daemon.NAME`` sections (status exit 0 = running).

    Enablement by init: ``chkconfig --list`` (sysv), ``systemctl is-enabled`` (systemd), the
    ``openrc.default`` section (``rc-update show default``).
    """
    base = f"daemon.{name}"
    fields = _fields(sections.get(base, ""))
    status_rc = parse_rc(sections.get(f"{base}.status.rc"))
    init = sections.get("init", "").strip()
    service = fields.get("service", name if fields.get("installed") == "yes" else "")
    enabled: bool | None
    levels: tuple[int, ...] = ()
    if init == "systemd":
        enabled = parse_is_enabled(sections.get(f"{base}.enabled", ""))
    elif init == "openrc":
        enabled = service in parse_rc_update(sections.get("openrc.default", "")) if service else None
    else:
        enabled, levels = parse_chkconfig(
            sections.get(f"{base}.enabled", ""), parse_rc(sections.get(f"{base}.enabled.rc"))
        )
    status = sections.get(f"{base}.status", "").strip()
    running = status_rc == 0
    known = service_named(name, init, service) if init and service else None
    if f"{base}.status.rc" not in sections and known is not None and fields.get("pidfile") == "running":
        running = fields.get("comm") == known.program
        status = f"pid {fields.get('pid', '?')} ({fields.get('comm', '?')}) from {known.pid_file}"
    return DaemonState(
        name=name,
        installed=fields.get("installed") == "yes",
        running=running,
        enabled=enabled,
        runlevels=levels,
        pid_file=fields.get("pidfile", "unknown"),
        status=status,
        status_rc=status_rc,
        service=service,
    )


def parse_ntpq(text: str) -> SyncState:
    """Sync state from ``ntpq -pn``: synchronised when a peer carries the ``*`` tally."""
    lines = tuple(line for line in text.splitlines() if line.strip())
    peers = [m for m in (_PEER_LINE.match(line) for line in lines) if m]
    if not peers:
        return SyncState(synchronised=None, source="ntpq", lines=lines)
    system = next((m.group(2) for m in peers if m.group(1) in "*o"), None)
    return SyncState(synchronised=system is not None, peer=system, source="ntpq", lines=lines)


def parse_readvar(text: str) -> SyncState:
    """Sync state from an NTP mode 6 ``readvar`` reply (hex, as ``od -An -tx1`` prints it).

    ntpstat's rule: synchronised when the leap indicator is not 3 (alarm), the stratum is
    below 16 and a system peer is chosen (``peer`` not 0); the peer is the ``refid``.
    ``None`` when the reply is not a well-formed, error-free answer to ``readvar``.
    """
    try:
        data = bytes.fromhex(" ".join(text.split()))
    except ValueError:
        return SyncState(synchronised=None, source="readvar")
    if len(data) < 12 or data[0] & 0x07 != 6 or data[1] & 0xDF != 0x82:
        return SyncState(synchronised=None, source="readvar")
    count = int.from_bytes(data[10:12], "big")
    body = data[12 : 12 + count].decode("ascii", "replace").strip()
    values = {
        key.strip(): value.strip().strip('"')
        for key, sep, value in (item.partition("=") for item in body.split(","))
        if sep
    }
    lines = (body,) if body else ()
    leap, stratum, peer = values.get("leap", ""), values.get("stratum", ""), values.get("peer", "")
    if not (leap.isdigit() and stratum.isdigit() and peer.isdigit()):
        return SyncState(synchronised=None, source="readvar", lines=lines)
    synchronised = int(leap, 2 if len(leap) == 2 else 10) != 3 and int(stratum) < 16 and int(peer) != 0
    refid = values.get("refid") or None
    return SyncState(synchronised, refid if synchronised else None, "readvar", lines)


def parse_ntpstat(text: str, rc: int | None) -> SyncState:
    """Sync state from ``ntpstat``'s exit code: 0 synchronised, 1 not, anything else unknown."""
    lines = tuple(line for line in text.splitlines() if line.strip())
    found = re.search(r"synchronised to .*?\(([^)]+)\)|synchronised to (\S+)", text)
    peer = (found.group(1) or found.group(2)) if found and rc == 0 else None
    state = {0: True, 1: False}.get(rc) if rc is not None else None
    return SyncState(synchronised=state, peer=peer, source="ntpstat", lines=lines)


def parse_sync(sections: Mapping[str, str], family: str = "ntpd") -> SyncState:
    """The driven daemon's sync state.

    chronyd: ``chronyc -n tracking``; systemd-timesyncd: ``timedatectl show``'s
    NTPSynchronized; ntpd/ntpsec: the mode 6 ``readvar`` reply when well-formed, else
    ``ntpq -pn`` when it printed peers, else ``ntpstat``.
    """
    if family == "chronyd" and "sync.chronyc" in sections:
        text = sections["sync.chronyc"]
        tracking = parse_tracking(text, parse_rc(sections.get("sync.chronyc.rc")))
        lines = tuple(line for line in text.splitlines() if line.strip())
        return SyncState(tracking.synchronised, tracking.reference, "chronyc", lines)
    if family == "systemd-timesyncd" and "sync.timedatectl" in sections:
        text = sections["sync.timedatectl"]
        lines = tuple(line for line in text.splitlines() if line.strip())
        return SyncState(parse_timedatectl(text).synchronised, None, "timedatectl", lines)
    if "sync.readvar" in sections:
        state = parse_readvar(sections["sync.readvar"])
        if state.synchronised is not None:
            return state
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
