"""How to drive a host's time daemon: one daemon under one init system, and its commands.

A ``TimeService`` is a daemon family (``ntpd``, ``ntpsec``, ``chronyd``, ``systemd-timesyncd``)
under a service name (``chrony``, ``ntpd``...) and an init system (``sysv``, ``systemd``,
``openrc``). It builds the commands that start, stop, restart, query and enable it. Each
daemon driver (``runbook.daemons``) lists its services; ``runbook.daemons.drivers.SERVICES``
is every one the probe looks for.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class TimeService:
    """One time daemon under one init system, and the commands that drive it.

    ``program`` is the daemon's process name (``/proc/PID/comm``; ntpsec's is ``ntpd`` too),
    ``""`` when the probe need not find it on the PATH; ``pid_file`` (SysV) proves it runs.
    """

    daemon: str
    init: str
    name: str
    program: str = ""
    pid_file: str = ""

    @property
    def label(self) -> str:
        """``chronyd (systemd unit chrony)``: what the record says it drove."""
        kind = {"systemd": "systemd unit", "openrc": "OpenRC service", "sysv": "SysV service"}[self.init]
        return f"{self.daemon} ({kind} {self.name})"

    def _action(self, action: str) -> str:
        name = shlex.quote(self.name)
        if self.init == "systemd":
            return f"systemctl {action} {name}"
        if self.init == "openrc":
            return f"rc-service {name} {action}"
        return f"/sbin/service {name} {action}"

    def start(self) -> str:
        return self._action("start")

    def stop(self) -> str:
        return self._action("stop")

    def restart(self) -> str:
        return self._action("restart")

    def enable(self) -> str:
        name = shlex.quote(self.name)
        if self.init == "systemd":
            return f"systemctl enable {name}"
        if self.init == "openrc":
            return f"rc-update add {name} default"
        return _sysv_enable(name)


def _sysv_enable(name: str) -> str:
    """Enable a SysV service (``name`` quoted) with ``chkconfig`` (Red Hat) or, where there is none,
    ``update-rc.d NAME enable`` (Debian: its K links in rc2-5.d become S links). One simple command,
    so ``LC_ALL=C`` and sudo can prefix it."""
    choose = (
        'if command -v chkconfig >/dev/null 2>&1; then chkconfig "$0" on; else update-rc.d "$0" enable; fi'
    )
    return f"sh -c {shlex.quote(choose)} {name}"


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_VERDICT = re.compile(r"\[\s*(OK|FAILED|PASSED|WARNING|失敗|警告|合格)\s*\]\s*$")
_FAILED = {"FAILED", "失敗"}
_STOP = re.compile(r"^\s*(Shutting down|Stopping)\b|を停止中", re.IGNORECASE)
_START = re.compile(r"^\s*Starting\b|を起動中", re.IGNORECASE)
_RUNLEVEL = re.compile(r"\b([0-6]):(on|off|オン|オフ)")
_RC_UPDATE = re.compile(r"^\s*(\S+)\s*\|\s*(.*)$")


def parse_service_actions(text: str) -> dict[str, str | None]:
    """``{"stop": "ok"|"failed"|None, "start": ...}`` from SysV ``service X restart|stop|start`` output.

    Reads the ``Shutting down ntpd: [FAILED]`` / ``Starting ntpd: [  OK  ]`` lines, also in
    Japanese (``service`` runs init scripts under ``env -i``, so ``LC_ALL=C`` does not reach
    them); colour codes are ignored. An action without such a line is ``None``.
    """
    found: dict[str, str | None] = {"stop": None, "start": None}
    for raw in text.splitlines():
        line = _ANSI.sub("", raw)
        verdict = _VERDICT.search(line)
        if verdict is None:
            continue
        state = "failed" if verdict.group(1) in _FAILED else "ok"
        if _STOP.search(line):
            found["stop"] = state
        elif _START.search(line):
            found["start"] = state
    return found


def parse_chkconfig(text: str, rc: int | None) -> tuple[bool | None, tuple[int, ...]]:
    """Whether ``chkconfig --list NAME`` shows the service on in any of runlevels 2-5, and which.

    ``None`` (unknown) when chkconfig failed or printed no runlevels.
    """
    levels = [(int(level), state in {"on", "オン"}) for level, state in _RUNLEVEL.findall(text)]
    if rc != 0 or not levels:
        return None, ()
    on = tuple(level for level, state in levels if state and 2 <= level <= 5)
    return bool(on), on


def parse_is_enabled(text: str) -> bool | None:
    """``systemctl is-enabled`` output: enabled (also ``-runtime``, ``alias``, ``linked``) or not.

    ``None`` when it printed no known state.
    """
    state = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if state in {"enabled", "enabled-runtime", "linked", "linked-runtime", "alias"}:
        return True
    if state in {"disabled", "static", "indirect", "masked", "masked-runtime", "generated", "transient"}:
        return False
    return None


def parse_rc_update(text: str) -> set[str]:
    """Service names that ``rc-update show default`` lists (``  chronyd | default``)."""
    found = set()
    for line in text.splitlines():
        match = _RC_UPDATE.match(line)
        if match and "default" in match.group(2).split():
            found.add(match.group(1))
    return found
