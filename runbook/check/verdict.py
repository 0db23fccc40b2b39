"""A host's check verdict from the probe's facts: each finding with the state it raises.

Pure: ``judge`` reads ``HostFacts``, the measured offset and the options, and changes nothing.
The offset's state comes from the thresholds applied to its magnitude (as ``check_ntp_time``
does); the time daemon (none, not running, disabled at boot, a conflict), its sync state and
a stale backup each raise the state their option names, or nothing when ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runbook.check.ranges import Thresholds
from runbook.check.states import State, worst
from runbook.clock import Measurement
from runbook.cron import parse_btime, parse_cron_section
from runbook.durations import format_duration
from runbook.facts import HostFacts
from runbook.settings import Settings


@dataclass(frozen=True)
class CheckOptions:
    """What raises the state: the offset thresholds, and the level of each other condition."""

    thresholds: Thresholds
    daemon: State | None = State.CRITICAL
    sync: State | None = State.WARNING
    backup: State | None = State.WARNING


@dataclass(frozen=True)
class Finding:
    """One thing the check says about the host, and the state it raises (OK: only said)."""

    state: State
    text: str


@dataclass
class HostCheck:
    """A host's check: its state, findings and the numbers behind them (``None``: not measured)."""

    host: str
    findings: list[Finding] = field(default_factory=list)
    offset: float | None = None
    bound: float | None = None
    rtt: float | None = None
    synchronised: bool | None = None
    daemon: str | None = None
    running: bool | None = None
    enabled: bool | None = None
    backup_age: float | None = None
    boot_id: str | None = None
    boot_time: float | None = None
    checked_at: float | None = None
    duration: float = 0.0

    @property
    def state(self) -> State:
        """The worst state a finding raises."""
        return worst(f.state for f in self.findings)

    @property
    def summary(self) -> str:
        """The findings as one line, in order."""
        return "; ".join(f.text for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """JSON values: the state's name and code, the summary, every finding and number."""
        return {
            "host": self.host,
            "state": self.state.name,
            "code": int(self.state),
            "summary": self.summary,
            "findings": [{"state": f.state.name, "text": f.text} for f in self.findings],
            "offset": self.offset,
            "bound": self.bound,
            "rtt": self.rtt,
            "synchronised": self.synchronised,
            "daemon": self.daemon,
            "running": self.running,
            "enabled": self.enabled,
            "backup_age": self.backup_age,
            "boot_id": self.boot_id,
            "boot_time": self.boot_time,
            "checked_at": self.checked_at,
            "duration": self.duration,
        }


def unknown(host: str, why: str) -> HostCheck:
    """A host that could not be checked; ``why`` names the reason."""
    return HostCheck(host, [Finding(State.UNKNOWN, why)])


def offset_text(offset: float) -> str:
    """``offset +10800.0 s``; three decimals below a second."""
    return f"offset {offset:+.1f} s" if abs(offset) >= 1 else f"offset {offset:+.3f} s"


def judge(
    host: str,
    facts: HostFacts,
    measured: Measurement,
    options: CheckOptions,
    settings: Settings,
    now: float,
) -> HostCheck:
    """The verdict on one probed host; ``now`` is true time (the NTP reference's)."""
    result = HostCheck(
        host,
        offset=measured.offset,
        bound=measured.bound,
        rtt=measured.rtt,
        synchronised=facts.sync.synchronised,
        boot_id=facts.boot_id,
        boot_time=boot_time(facts),
        checked_at=now,
    )
    result.findings.append(
        Finding(options.thresholds.state(abs(measured.offset)), offset_text(measured.offset))
    )
    result.findings.extend(_daemon(facts, options, result))
    backup = _backup(facts, settings, measured.offset, now, result)
    if backup is not None and options.backup is not None:
        result.findings.append(Finding(options.backup, backup))
    return result


def boot_time(facts: HostFacts) -> float | None:
    """The host's boot time by its own clock (``btime`` of /proc/stat), as epoch seconds."""
    if facts.cron is None:
        return None
    found = parse_btime(parse_cron_section(facts.cron).outputs.get("btime", ""))
    return None if found is None else found.timestamp()


def _raise(level: State | None, text: str) -> Finding:
    return Finding(level if level is not None else State.OK, text)


def _daemon(facts: HostFacts, options: CheckOptions, result: HostCheck) -> list[Finding]:
    choice = facts.choice()
    if choice.conflict:
        return [_raise(options.daemon, "time daemons conflict: " + choice.conflict.split(":")[0])]
    if choice.service is None or choice.state is None:
        return [_raise(options.daemon, "no time daemon installed")]
    name, state = choice.service.daemon, choice.state
    result.daemon, result.running, result.enabled = name, state.running, state.enabled
    disabled = ", disabled at boot" if state.enabled is False else ""
    if not state.running:
        return [_raise(options.daemon, f"{name} not running{disabled}")]
    findings: list[Finding] = []
    sync = facts.sync.synchronised
    if sync is False:
        findings.append(_raise(options.sync, f"{name} not synchronised{disabled}"))
    elif sync is None:
        findings.append(Finding(State.OK, f"{name} running, sync state unknown{disabled}"))
    else:
        peer = f" to {facts.sync.peer}" if facts.sync.peer else ""
        findings.append(Finding(State.OK, f"{name} synchronised{peer}{disabled}"))
    if disabled and options.daemon is not None:
        findings[-1] = Finding(max(findings[-1].state, State.WARNING), findings[-1].text)
    return findings


def _backup(facts: HostFacts, settings: Settings, skew: float, now: float, result: HostCheck) -> str | None:
    """Why the backup is stale (``None`` when fresh or not configured); the rule of rerun_backup."""
    backup, evidence = settings.backup, facts.backup
    if backup is None or evidence is None or not (backup.evidence_file or backup.check_command):
        return None
    last = evidence.last_success
    result.backup_age = None if last is None else now - last
    trust_check = abs(skew) <= settings.ntp.max_offset or not backup.evidence_file
    if backup.check_command and trust_check:
        return None if evidence.check_rc == 0 else f"backup stale: check command exit {evidence.check_rc}"
    if result.backup_age is not None and result.backup_age < backup.max_age:
        return None
    allowed = format_duration(backup.max_age)[1:]
    if result.backup_age is None:
        return f"backup stale: no recorded success (max age {allowed})"
    return f"backup stale: last success {format_duration(result.backup_age)[1:]} ago (max age {allowed})"
