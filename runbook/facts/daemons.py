"""The daemons and sync facts: each family's state from its ``daemon.NAME`` sections, the one
daemon to drive, and its sync state (read by its driver)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runbook.daemons import SyncState
from runbook.daemons.drivers import DRIVERS, FAMILIES, driver_for, service_named
from runbook.facts.host import parse_init
from runbook.shell import section_rc
from runbook.timeservice import TimeService, parse_chkconfig, parse_is_enabled, parse_rc_update


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


def service_arguments() -> tuple[str, ...]:
    """The probe's ``daemons/services.sh`` arguments: ``FAMILY:INIT:NAME:PROGRAM:PIDFILE`` per service."""
    return tuple(
        f"{s.daemon}:{s.init}:{s.name}:{s.program}:{s.pid_file}" for d in DRIVERS for s in d.services
    )


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
    status_rc = section_rc(sections.get(f"{base}.status.rc"))
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
            sections.get(f"{base}.enabled", ""), section_rc(sections.get(f"{base}.enabled.rc"))
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


def parse_daemons(sections: Mapping[str, str]) -> tuple[DaemonState, ...]:
    """Every family's state, in ``FAMILIES`` order."""
    return tuple(parse_daemon(sections, family) for family in FAMILIES)


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


def parse_sync(sections: Mapping[str, str], family: str = "ntpd") -> SyncState:
    """The sync state of ``family``'s daemon, as its driver reads it."""
    return driver_for(family).sync_state(sections)


def driven_family(sections: Mapping[str, str]) -> str:
    """The family of the daemon the steps drive (``ntpd`` when none: its tools need no daemon)."""
    init = parse_init(sections.get("init", ""))
    chosen = choose_daemon(parse_daemons(sections), init).service
    return chosen.daemon if chosen else "ntpd"
