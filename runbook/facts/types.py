"""What the probe found on a host: ``HostFacts``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from runbook import clock
from runbook.daemons import SyncState
from runbook.daemons.chrony import Makestep
from runbook.facts.backup import BackupEvidence
from runbook.facts.daemons import DaemonChoice, DaemonState, choose_daemon
from runbook.snapshot.model import HostState
from runbook.timeservice import TimeService


@dataclass(frozen=True)
class HostFacts:
    """Everything the probe found (one field per fact unit, ``runbook.facts.units``); ``clock`` is
    the best clock sample (``None`` if unreadable)."""

    hostname: str
    os: str
    init: str
    daemons: tuple[DaemonState, ...]
    sync: SyncState
    tools: Mapping[str, str] = field(default_factory=dict)
    backup: BackupEvidence | None = None
    clock: clock.ClockSample | None = None
    cron: str | None = None
    makestep: Makestep | None = None
    ntpdate_flavour: str | None = None
    rtc: bool | None = None
    state: HostState | None = None
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
