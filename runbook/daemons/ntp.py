"""What classic ntpd and NTPsec share: their sync state (mode 6 readvar, ``ntpq -pn``,
``ntpstat``), the wait for a system peer, and the one-shot tools (ntpdate in either flavour,
ntpdig, ``ntpd -gq``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from runbook import shell
from runbook.daemons import Runner, SyncKind, SyncRun, SyncState, each_server, wait_script
from runbook.daemons.ntpd_classic import parse_ntpd_gq, parse_ntpdate
from runbook.daemons.ntpsec import parse_ntpdig
from runbook.timeservice import TimeService

if TYPE_CHECKING:
    from runbook.facts import HostFacts
    from runbook.settings import Settings

_PEER_LINE = re.compile(r"^([*+\-x.#o ])(\S+)\s+\S+\s+\d+\s")
NTP_CONF = "the servers of ntp.conf"
NTPD_GQ_TIMEOUT = 45.0
"""``ntpd -gq`` waits for its servers with no limit of its own; with iburst it sets the clock in ~10 s."""


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


def parse_ntp_sync(sections: Mapping[str, str]) -> SyncState:
    """ntpd's sync state: the mode 6 ``readvar`` reply when well-formed, else ``ntpq -pn`` when it
    printed peers, else ``ntpstat``."""
    if "sync.readvar" in sections:
        state = parse_readvar(sections["sync.readvar"])
        if state.synchronised is not None:
            return state
    if "sync.ntpq" in sections and shell.section_rc(sections.get("sync.ntpq.rc")) == 0:
        state = parse_ntpq(sections["sync.ntpq"])
        if state.synchronised is not None:
            return state
    if "sync.ntpstat" in sections:
        return parse_ntpstat(sections["sync.ntpstat"], shell.section_rc(sections.get("sync.ntpstat.rc")))
    if "sync.ntpq" in sections:
        return parse_ntpq(sections["sync.ntpq"])
    return SyncState(synchronised=None)


@dataclass(frozen=True)
class OneShotTool:
    """An ntp one-shot tool: its name, the servers to try, the command per server, its parser."""

    label: str
    servers: tuple[str, ...]
    command: Callable[[str], str]
    parse: Callable[[str, int | None], SyncRun]
    timeout: float | None = None


def one_shot_tool(facts: HostFacts, servers: tuple[str, ...], timeout: float) -> OneShotTool | None:
    """ntpdate (either flavour), else ntpdig, else ``ntpd -gq`` (bounded by ``NTPD_GQ_TIMEOUT``)."""
    tools = facts.tools
    if "ntpdate" in tools:
        ntpdate = shlex.quote(tools["ntpdate"])
        if facts.ntpdate_flavour == "ntpsec":
            return OneShotTool(
                "ntpdate (ntpsec wrapper)", servers, lambda s: f"{ntpdate} {shlex.quote(s)}", parse_ntpdig
            )
        return OneShotTool("ntpdate", servers, lambda s: f"{ntpdate} {shlex.quote(s)}", parse_ntpdate)
    if "ntpdig" in tools:
        ntpdig = shlex.quote(tools["ntpdig"])
        return OneShotTool(
            "ntpdig", servers, lambda s: f"{ntpdig} -s -S -M 500 -t 1 {shlex.quote(s)}", parse_ntpdig
        )
    if "ntpd" in tools:
        ntpd = shlex.quote(tools["ntpd"])
        bound = min(timeout, NTPD_GQ_TIMEOUT)
        return OneShotTool("ntpd -gq", (NTP_CONF,), lambda _: f"{ntpd} -gq", parse_ntpd_gq, bound)
    return None


@dataclass(frozen=True)
class NtpDriver:
    """classic ntpd or NTPsec: same sync state, wait and one-shot tools; their own services."""

    family: str
    services: tuple[TimeService, ...]
    fragment: str = "ntp.sh"
    exits_on_panic: bool = True
    unsynchronised: str = "no system peer (*) in ntpq -pn"
    panic_note: str = "the one-shot tool steps past it (ntpd -g would too; plain ntpd exits)"

    def sync_state(self, sections: Mapping[str, str]) -> SyncState:
        return parse_ntp_sync(sections)

    def wait_command(self, seconds: int, token: str) -> str:
        """Polls ``ntpq -pn`` (else ``ntpstat``) once a second until a system peer."""
        return wait_script(__package__ or "runbook.daemons", "ntp_wait.sh", seconds, token)

    def before_restart(self) -> tuple[str, ...]:
        return ()

    def warnings(self, facts: HostFacts) -> tuple[str, ...]:
        return ()

    def one_shot_plan(self, facts: HostFacts, settings: Settings, running: bool) -> str:
        tool = one_shot_tool(facts, settings.ntp.servers, settings.fleet.command_timeout)
        return f"{tool.label if tool else 'ntpdate'} {settings.ntp.servers[0]}"

    def one_shot(
        self,
        run: Runner,
        facts: HostFacts,
        settings: Settings,
        service: TimeService | None,
        running: bool,
        token: str,
    ) -> SyncRun:
        """ntpdate / ntpdig / ``ntpd -gq`` against each server in turn (on ``socket-in-use`` the
        caller decides)."""
        tool = one_shot_tool(facts, settings.ntp.servers, settings.fleet.command_timeout)
        if tool is None:
            return SyncRun(
                SyncKind.NO_TOOL,
                "none of ntpdate, ntpdig or ntpd is installed on the host: install ntpdate (yum install "
                "ntpdate, apt-get install ntpsec-ntpdate) and run again; nothing changed",
            )
        result = each_server(run, tool.servers, tool.command, tool.parse, tool.timeout)
        return replace(result, tool=tool.label)


def _services(
    family: str, names: Mapping[str, tuple[str, ...]], pid_files: Mapping[str, str]
) -> tuple[TimeService, ...]:
    return tuple(
        TimeService(family, init, name, "ntpd", pid_files.get(name, "") if init == "sysv" else "")
        for init, found in names.items()
        for name in found
    )


NTPD = NtpDriver(
    "ntpd",
    _services(
        "ntpd",
        {"sysv": ("ntpd", "ntp"), "systemd": ("ntpd", "ntp"), "openrc": ("ntpd",)},
        {"ntpd": "/var/run/ntpd.pid", "ntp": "/var/run/ntpd.pid"},
    ),
)
"""Classic ntp 4.2.x ntpd (its tools' parsers: ``ntpd_classic``)."""

NTPSEC = NtpDriver(
    "ntpsec",
    _services("ntpsec", {"sysv": ("ntpsec",), "systemd": ("ntpsec",)}, {"ntpsec": "/run/ntpd.pid"}),
)
"""NTPsec's ntpd (its tools' parsers: ``ntpsec``)."""
