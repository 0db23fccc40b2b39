"""What a host is and how its time and backup stand, parsed from the one probe.

``types`` holds ``HostFacts``; ``units`` the fact registry (each field's probe fragments and
parser); ``gather`` runs the probe and caches the facts on the connection; ``host``,
``daemons`` and ``backup`` are the parsers. Every parser is pure and never raises on odd
input: unknown stays ``None``.
"""

from __future__ import annotations

from runbook.daemons import SyncState
from runbook.errors import ProbeError
from runbook.facts.backup import BackupEvidence, parse_backup, parse_timestamp
from runbook.facts.daemons import DaemonChoice, DaemonState, choose_daemon, parse_daemon, parse_sync
from runbook.facts.gather import cached_facts, cron_scope, facts_for, forget_facts, section_token
from runbook.facts.host import parse_boot_id, parse_os, parse_tools
from runbook.facts.types import HostFacts
from runbook.facts.units import parse_facts

__all__ = [
    "BackupEvidence",
    "DaemonChoice",
    "DaemonState",
    "HostFacts",
    "ProbeError",
    "SyncState",
    "cached_facts",
    "choose_daemon",
    "cron_scope",
    "facts_for",
    "forget_facts",
    "parse_backup",
    "parse_boot_id",
    "parse_daemon",
    "parse_facts",
    "parse_os",
    "parse_sync",
    "parse_timestamp",
    "parse_tools",
    "section_token",
]
