"""How to drive a host's time daemon: one daemon under one init system, and its commands.

A ``TimeService`` is a daemon family (``ntpd``, ``ntpsec``, ``chronyd``, ``systemd-timesyncd``)
under a service name (``chrony``, ``ntpd``...) and an init system (``sysv``, ``systemd``,
``openrc``). It builds the commands that start, stop, restart, query and enable it, and
the shell test the probe uses to tell whether it is installed. ``SERVICES`` lists every
pair the probe looks for; for each family and init the first installed name wins.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

FAMILIES = ("chronyd", "ntpsec", "ntpd", "systemd-timesyncd")
"""Daemon families, in the order used when neither enablement nor state picks one."""

_PROGRAM = {"chronyd": "chronyd", "ntpsec": "ntpd", "ntpd": "ntpd"}
_SYSTEMD_INSTALLED = ("enabled", "enabled-runtime", "disabled", "static", "indirect", "linked", "generated")


@dataclass(frozen=True)
class TimeService:
    """One time daemon under one init system, and the commands that drive it."""

    daemon: str
    init: str
    name: str
    pid_file: str = ""

    @property
    def script(self) -> str:
        return f"/etc/init.d/{self.name}"

    @property
    def program(self) -> str:
        """The daemon's process name (``/proc/PID/comm``): ntpsec's is ``ntpd`` too."""
        return _PROGRAM.get(self.daemon, self.daemon)

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

    def status(self) -> str:
        """Exit 0 when running: ``systemctl is-active``, ``rc-service X status``, ``service X status``."""
        if self.init == "systemd":
            return f"systemctl is-active {shlex.quote(self.name)}"
        return self._action("status")

    def enable(self) -> str:
        name = shlex.quote(self.name)
        if self.init == "systemd":
            return f"systemctl enable {name}"
        if self.init == "openrc":
            return f"rc-update add {name} default"
        return _sysv_enable(name)

    def enabled_query(self) -> str:
        """The boot-enablement query (OpenRC: ``rc-update show default``, shared by all services)."""
        if self.init == "systemd":
            return f"systemctl is-enabled {shlex.quote(self.name)}"
        if self.init == "openrc":
            return "rc-update show default"
        return f"chkconfig --list {shlex.quote(self.name)}"

    def installed_test(self) -> str:
        """Shell condition: the service is defined (not an alias) and its program exists.

        systemd asks ``systemctl is-enabled`` and keeps its answer in ``$rb_en`` for the probe.
        """
        program = _PROGRAM.get(self.daemon)
        has_program = f" && command -v {program} >/dev/null 2>&1" if program else ""
        if self.init == "systemd":
            states = "|".join(_SYSTEMD_INSTALLED)
            return (
                f"{{ rb_en=$(systemctl is-enabled {shlex.quote(self.name)} 2>&1); rb_enrc=$?; "
                f'case "$rb_en" in {states}|masked*) true;; *) false;; esac; }}{has_program}'
            )
        return f"[ -x {shlex.quote(self.script)} ]{has_program}"


def _sysv_enable(name: str) -> str:
    """Enable a SysV service (``name`` quoted) with ``chkconfig`` (Red Hat) or, where there is none,
    ``update-rc.d NAME enable`` (Debian: its K links in rc2-5.d become S links). One simple command,
    so ``LC_ALL=C`` and sudo can prefix it."""
    choose = (
        'if command -v chkconfig >/dev/null 2>&1; then chkconfig "$0" on; else update-rc.d "$0" enable; fi'
    )
    return f"sh -c {shlex.quote(choose)} {name}"


def _services() -> tuple[TimeService, ...]:
    names = {
        ("ntpd", "sysv"): ("ntpd", "ntp"),
        ("ntpsec", "sysv"): ("ntpsec",),
        ("chronyd", "sysv"): ("chronyd", "chrony"),
        ("chronyd", "systemd"): ("chronyd", "chrony"),
        ("ntpsec", "systemd"): ("ntpsec",),
        ("ntpd", "systemd"): ("ntpd", "ntp"),
        ("systemd-timesyncd", "systemd"): ("systemd-timesyncd",),
        ("chronyd", "openrc"): ("chronyd",),
        ("ntpd", "openrc"): ("ntpd",),
    }
    pid_files = {
        "ntpd": "/var/run/ntpd.pid",
        "ntp": "/var/run/ntpd.pid",
        "ntpsec": "/run/ntpd.pid",
        "chronyd": "/var/run/chronyd.pid",
        "chrony": "/run/chrony/chronyd.pid",
    }
    return tuple(
        TimeService(daemon, init, name, pid_files.get(name, "") if init == "sysv" else "")
        for (daemon, init), found in names.items()
        for name in found
    )


SERVICES: tuple[TimeService, ...] = _services()
"""Every daemon/init/name the probe looks for and the steps can drive."""

NTPD_SYSV = next(s for s in SERVICES if s.daemon == "ntpd" and s.init == "sysv" and s.name == "ntpd")


def service_named(daemon: str, init: str, name: str) -> TimeService | None:
    """The known service ``name`` of ``daemon`` under ``init``."""
    return next((s for s in SERVICES if (s.daemon, s.init, s.name) == (daemon, init, name)), None)


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
