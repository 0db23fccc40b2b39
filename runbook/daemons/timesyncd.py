"""systemd-timesyncd through ``timedatectl``: its driver and ``timedatectl show``'s parser."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runbook import shell
from runbook.daemons import Runner, SyncKind, SyncRun, SyncState, lines_of, wait_script
from runbook.timeservice import TimeService

if TYPE_CHECKING:
    from runbook.facts import HostFacts
    from runbook.settings import Settings

SET_NTP = "timedatectl set-ntp true"


@dataclass(frozen=True)
class Timedatectl:
    """``timedatectl show``: NTP wanted (``NTP``), synchronised (``NTPSynchronized``), the raw fields."""

    ntp: bool | None
    synchronised: bool | None
    fields: tuple[tuple[str, str], ...] = ()


def _yes(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get((value or "").strip())


def parse_timedatectl(text: str) -> Timedatectl:
    """``KEY=VALUE`` lines of ``timedatectl show``; unknown values stay ``None``."""
    split = (line.partition("=") for line in lines_of(text))
    pairs = tuple((key.strip(), value.strip()) for key, sep, value in split if sep)
    fields = dict(pairs)
    return Timedatectl(
        ntp=_yes(fields.get("NTP")), synchronised=_yes(fields.get("NTPSynchronized")), fields=pairs
    )


@dataclass(frozen=True)
class TimesyncdDriver:
    """systemd-timesyncd: ``NTPSynchronized`` for its state; a one-shot sync is set-ntp, restart, wait."""

    family: str = "systemd-timesyncd"
    services: tuple[TimeService, ...] = (TimeService("systemd-timesyncd", "systemd", "systemd-timesyncd"),)
    fragment: str = "timesyncd.sh"
    exits_on_panic: bool = False
    unsynchronised: str = "timedatectl: NTPSynchronized is not yes"
    panic_note: str = "timesyncd has no panic threshold and steps by itself"

    def sync_state(self, sections: Mapping[str, str]) -> SyncState:
        text = sections.get("sync.timedatectl")
        if text is None:
            return SyncState(synchronised=None)
        lines = tuple(line for line in text.splitlines() if line.strip())
        return SyncState(parse_timedatectl(text).synchronised, None, "timedatectl", lines)

    def wait_command(self, seconds: int, token: str) -> str:
        """Polls ``timedatectl show -p NTPSynchronized`` once a second until ``yes``."""
        return wait_script(__package__ or "runbook.daemons", "timesyncd_wait.sh", seconds, token)

    def before_restart(self) -> tuple[str, ...]:
        return (SET_NTP,)

    def warnings(self, facts: HostFacts) -> tuple[str, ...]:
        return ()

    def one_shot_plan(self, facts: HostFacts, settings: Settings, running: bool) -> str:
        return "timedatectl set-ntp true, a restart of systemd-timesyncd and a wait"

    def one_shot(
        self,
        run: Runner,
        facts: HostFacts,
        settings: Settings,
        service: TimeService | None,
        running: bool,
        token: str,
    ) -> SyncRun:
        """``timedatectl set-ntp true``, restart, wait for ``NTPSynchronized=yes``."""
        run(SET_NTP)
        run((service or self.services[0]).restart())
        wait = math.ceil(settings.ntp.sync_wait)
        record = run(self.wait_command(wait, token), wait + settings.fleet.command_timeout)
        if self.sync_state(shell.split_sections(record.stdout, token)).synchronised:
            message = f"NTPSynchronized=yes after {record.duration:.0f} s"
            return SyncRun(SyncKind.SYNCED, message, "step", tool="systemd-timesyncd")
        message = f"NTPSynchronized not yes within {settings.ntp.sync_wait:g} s"
        return SyncRun(SyncKind.ERROR, message)


DRIVER = TimesyncdDriver()
