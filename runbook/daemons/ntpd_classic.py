"""Classic ntp 4.2.x: ``ntpdate SERVER`` and ``ntpd -gq`` output, read."""

from __future__ import annotations

import re

from runbook.daemons import SyncKind, SyncRun, lines_of

_NTPDATE_PREFIX = re.compile(r"^\s*\d{1,2} \w{3} \d{2}:\d{2}:\d{2} ntpdate\[\d+\]: ")
_NTPDATE_SET = re.compile(r"\b(step|adjust) time server (\S+) offset ([-+]?\d+(?:\.\d+)?) sec\b")
_NTPD_SET = re.compile(r"\btime (set|slew) ([-+]?\d+(?:\.\d+)?)\s*s\b")


def parse_ntpdate(text: str, rc: int | None) -> SyncRun:
    """Classic ntpdate output (``DD Mon HH:MM:SS ntpdate[PID]: ...``) and exit code, read."""
    lines = [_NTPDATE_PREFIX.sub("", line).strip() for line in lines_of(text)]
    for line in lines:
        found = _NTPDATE_SET.search(line)
        if found:
            method, address, offset = found.groups()
            return SyncRun(SyncKind.SYNCED, line, method, address, float(offset))
    for line in lines:
        if "NTP socket is in use" in line:
            return SyncRun(SyncKind.SOCKET_IN_USE, line)
        if "no server suitable for synchronization found" in line:
            return SyncRun(SyncKind.NO_SERVER, line)
    if rc == 0:
        return SyncRun(SyncKind.SYNCED, lines[-1] if lines else "exit 0")
    return SyncRun(SyncKind.ERROR, lines[-1] if lines else f"exit {rc}")


def parse_ntpd_gq(text: str, rc: int | None) -> SyncRun:
    """``ntpd -gq`` read: ``ntpd: time set +X s`` (step) or ``time slew`` is success.

    ``ntpd: no servers found`` exits 0 all the same: it is ``no-server``. ``unable to bind``
    (the daemon holds UDP 123) is ``socket-in-use``.
    """
    lines = lines_of(text)
    for line in lines:
        found = _NTPD_SET.search(line)
        if found:
            kind, offset = found.groups()
            return SyncRun(SyncKind.SYNCED, line, "step" if kind == "set" else "adjust", None, float(offset))
    for line in lines:
        if "no servers found" in line:
            return SyncRun(SyncKind.NO_SERVER, f"{line} (exit {rc}: ntpd -gq exits 0 even so)")
        if "unable to bind" in line or "another process may be running" in line:
            return SyncRun(SyncKind.SOCKET_IN_USE, line)
    last = lines[-1] if lines else f"exit {rc}"
    return SyncRun(SyncKind.ERROR, f"no 'time set' line: {last}" if rc == 0 else last)
