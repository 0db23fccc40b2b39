"""How to drive a host's time daemon: the commands for one daemon under one init system.

A ``TimeService`` names a daemon (``ntpd``) under an init system (``sysv``) and builds the
commands that start, stop, restart, query and enable it; ``parse_service_actions`` reads
what a SysV init script printed. Today: ntpd under SysV init (CentOS 6). systemd,
OpenRC, chrony, timesyncd and ntpsec are later additions to ``SERVICES``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class TimeService:
    """One time daemon under one init system, and the commands that drive it."""

    daemon: str
    init: str
    script: str
    pid_file: str

    def _service(self, action: str) -> str:
        return f"/sbin/service {shlex.quote(self.daemon)} {action}"

    def start(self) -> str:
        return self._service("start")

    def stop(self) -> str:
        return self._service("stop")

    def restart(self) -> str:
        return self._service("restart")

    def status(self) -> str:
        return self._service("status")

    def enable(self) -> str:
        return f"chkconfig {shlex.quote(self.daemon)} on"

    def enabled_query(self) -> str:
        return f"chkconfig --list {shlex.quote(self.daemon)}"


NTPD_SYSV = TimeService(daemon="ntpd", init="sysv", script="/etc/init.d/ntpd", pid_file="/var/run/ntpd.pid")

SERVICES: tuple[TimeService, ...] = (NTPD_SYSV,)
"""Every daemon/init pair the probe looks for and the steps can drive, in order of preference."""

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_VERDICT = re.compile(r"\[\s*(OK|FAILED|PASSED|WARNING|失敗|警告|合格)\s*\]\s*$")
_FAILED = {"FAILED", "失敗"}
_STOP = re.compile(r"^\s*(Shutting down|Stopping)\b|を停止中", re.IGNORECASE)
_START = re.compile(r"^\s*Starting\b|を起動中", re.IGNORECASE)
_RUNLEVEL = re.compile(r"\b([0-6]):(on|off|オン|オフ)")


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
