"""Time daemon drivers: what the runbook knows about each daemon family, behind one protocol.

One module per family: ``chrony`` (chronyd), ``ntpd_classic`` (ntp 4.2.x ntpd), ``ntpsec``
(NTPsec's ntpd), ``timesyncd`` (systemd-timesyncd); ``ntp`` holds what the two ntpd families
share. Each module's ``DRIVER`` says which services it runs as under each init system, which
probe fragment reads its state, how to parse its sync state, how to wait for sync, and how
to set the clock once. ``drivers.DRIVERS`` lists them. Every parser is pure; offsets are
seconds, positive when the host was behind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from runbook import shell

if TYPE_CHECKING:
    from runbook.facts import HostFacts
    from runbook.results import CommandRecord
    from runbook.settings import Settings
    from runbook.timeservice import TimeService


class SyncKind(StrEnum):
    """How a one-shot sync ended."""

    SYNCED = "synced"
    SOCKET_IN_USE = "socket-in-use"
    """ntpd holds UDP 123: stop it, sync, start it again."""
    NO_SERVER = "no-server"
    BUSY = "busy"
    """The daemon runs (chronyd -q aborts)."""
    ERROR = "error"
    NO_TOOL = "no-tool"
    """The host has no program that can sync this way: nothing ran."""


@dataclass(frozen=True)
class SyncRun:
    """What one one-shot sync did.

    ``method`` is ``step`` or ``adjust`` (slew) when known; ``offset`` is the correction
    (+ = the host was behind); ``server`` the server it used (or tried last); ``tool`` what ran.
    """

    kind: SyncKind
    message: str
    method: str | None = None
    address: str | None = None
    offset: float | None = None
    server: str | None = None
    tool: str | None = None


@dataclass(frozen=True)
class SyncState:
    """Whether the daemon is synchronised (``None``: could not tell), its system peer, the evidence."""

    synchronised: bool | None
    peer: str | None = None
    source: str | None = None
    lines: tuple[str, ...] = ()


class Runner(Protocol):
    """Runs one command on the host, recorded on the step (``timeout``: ``None`` for the default)."""

    def __call__(self, command: str, timeout: float | None = None) -> CommandRecord: ...


class Driver(Protocol):
    """One daemon family."""

    @property
    def family(self) -> str:
        """``chronyd``, ``ntpsec``, ``ntpd``, ``systemd-timesyncd``: the name records use."""
        ...

    @property
    def services(self) -> tuple[TimeService, ...]:
        """The services it may run as, per init system; the first installed one is driven."""
        ...

    @property
    def fragment(self) -> str:
        """The probe fragment (a ``.sh`` of this package) that reads its sync state."""
        ...

    @property
    def unsynchronised(self) -> str:
        """What the evidence shows when it is not synchronised (for messages)."""
        ...

    @property
    def exits_on_panic(self) -> bool:
        """Whether the daemon, restarted without ``-g``, exits rather than correct a large offset."""
        ...

    @property
    def panic_note(self) -> str:
        """What a one-shot sync does about ntpd's panic threshold, for the warning."""
        ...

    def sync_state(self, sections: Mapping[str, str]) -> SyncState:
        """Its sync state from probe (or wait) sections."""
        ...

    def wait_command(self, seconds: int, token: str) -> str:
        """Waits at most ``seconds`` for sync; prints sections ``sync_state`` reads, and ``waited``."""
        ...

    def before_restart(self) -> tuple[str, ...]:
        """Commands to run before a restart."""
        ...

    def warnings(self, facts: HostFacts) -> tuple[str, ...]:
        """What in its configuration keeps it from recovering a suspended VM's clock."""
        ...

    def one_shot_plan(self, facts: HostFacts, settings: Settings, running: bool) -> str:
        """How ``one_shot`` would set the clock (what a dry run says)."""
        ...

    def one_shot(
        self,
        run: Runner,
        facts: HostFacts,
        settings: Settings,
        service: TimeService | None,
        running: bool,
        token: str,
    ) -> SyncRun:
        """Set the clock once, the way the daemon allows (``token``: for the sections of its waits)."""
        ...


def lines_of(text: str) -> list[str]:
    """The non-blank lines of ``text``, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def output_of(record: CommandRecord) -> str:
    """A command's stdout and stderr, as the parsers read them."""
    return f"{record.stdout}\n{record.stderr}"


def each_server(
    run: Runner,
    servers: tuple[str, ...],
    command: Callable[[str], str],
    parse: Callable[[str, int | None], SyncRun],
    timeout: float | None = None,
) -> SyncRun:
    """``command(server)`` against each server in turn until one syncs (or the socket is in use)."""
    tried: list[SyncRun] = []
    for server in servers:
        record = run(command(server), timeout)
        result = parse(output_of(record), record.exit_code)
        if record.exit_code is None:
            result = SyncRun(SyncKind.ERROR, record.note or "did not finish")
        tried.append(
            SyncRun(result.kind, result.message, result.method, result.address, result.offset, server)
        )
        if result.kind in {SyncKind.SYNCED, SyncKind.SOCKET_IN_USE, SyncKind.BUSY}:
            return tried[-1]
    last = tried[-1]
    if len(tried) > 1:
        names = ", ".join(str(run.server) for run in tried)
        return SyncRun(last.kind, f"{last.message} (tried {names})", server=last.server)
    return last


def wait_script(package: str, name: str, seconds: int, token: str) -> str:
    """The wait script ``name`` of ``package`` after the prelude, with its TOKEN SECONDS arguments."""
    script = shell.prelude() + shell.read(package, name)
    return shell.command(script, (shell.checked_token(token), str(max(0, int(seconds)))))
