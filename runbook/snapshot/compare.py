"""Comparing a host with its snapshot: ``Finding``s by kind, failures, warnings and information.

``compare_states`` needs a snapshot; ``standing_problems`` needs none (enabled services not
running, failed units, fstab mounts not mounted). Pure functions over ``HostState``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from runbook.snapshot.model import CronJob, HostState, Output, Socket

EPHEMERAL_PORTS = 32768
"""Sockets on ports from here up are clients' (Linux's ``ip_local_port_range``): not compared."""


class Level(StrEnum):
    FAILURE = "failure"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One difference: its ``kind`` (service, socket, mount, disk, site, command, cron, failed_unit,
    fstab, boot, kernel), level, what it is about, before and now as short text."""

    kind: str
    level: Level
    subject: str
    before: str
    now: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "level": self.level.value,
            "subject": self.subject,
            "before": self.before,
            "now": self.now,
            "message": self.message,
        }


def _listening(sockets: Sequence[Socket]) -> dict[tuple[str, str, int], Socket]:
    return {(s.proto, s.address, s.port): s for s in sockets if s.port < EPHEMERAL_PORTS}


def compare_states(before: HostState, now: HostState, *, disk_growth: float = 10.0) -> list[Finding]:
    """What changed from ``before`` to ``now`` that an admin must hear about."""
    found: list[Finding] = []
    for name, was in sorted(before.services.items()):
        is_now = now.services.get(name)
        if was.running and not (is_now and is_now.running):
            state = "failed" if is_now and is_now.failed else "stopped" if is_now else "gone"
            found.append(
                Finding(
                    "service", Level.FAILURE, name, "running", state, f"{name} ran before and is {state} now"
                )
            )
        elif was.enabled and is_now is not None and is_now.enabled is False:
            found.append(
                Finding(
                    "service",
                    Level.WARNING,
                    name,
                    "enabled",
                    "disabled",
                    f"{name} was enabled at boot and is not now",
                )
            )
    listening = _listening(now.sockets)
    for key, socket in sorted(_listening(before.sockets).items()):
        if key not in listening:
            found.append(
                Finding(
                    "socket",
                    Level.FAILURE,
                    socket.label,
                    "listening",
                    "closed",
                    f"{socket.label} no longer listening",
                )
            )
    for was_mount in before.mounts:
        mount = now.mount(was_mount.target)
        where = was_mount.target
        if mount is None:
            found.append(
                Finding(
                    "mount",
                    Level.FAILURE,
                    where,
                    f"{was_mount.source} ({was_mount.fstype})",
                    "not mounted",
                    f"{where} is no longer mounted",
                )
            )
        elif mount.readonly and not was_mount.readonly:
            found.append(Finding("mount", Level.FAILURE, where, "rw", "ro", f"{where} is read-only now"))
        else:
            then_use, now_use = was_mount.use_percent, mount.use_percent
            if then_use is not None and now_use is not None and now_use - then_use >= disk_growth:
                found.append(
                    Finding(
                        "disk",
                        Level.WARNING,
                        where,
                        f"{then_use:.0f}% used",
                        f"{now_use:.0f}% used",
                        f"{where} went from {then_use:.0f}% to {now_use:.0f}% used",
                    )
                )
    if before.boot_id and now.boot_id and before.boot_id != now.boot_id:
        found.append(
            Finding("boot", Level.INFO, "boot", before.boot_id[:8], now.boot_id[:8], "the host rebooted")
        )
    if before.kernel and now.kernel and before.kernel != now.kernel:
        found.append(
            Finding("kernel", Level.INFO, "kernel", before.kernel, now.kernel, f"new kernel {now.kernel}")
        )
    return found


def command_findings(before: Mapping[str, Output], now: Mapping[str, Output]) -> list[Finding]:
    """The operator's commands (by their text) whose output or exit code changed."""
    found = []
    for command, was in before.items():
        is_now = now.get(command)
        if is_now is None:
            continue
        if was.text.strip() != is_now.text.strip() or was.rc != is_now.rc:
            found.append(
                Finding(
                    "command",
                    Level.WARNING,
                    command,
                    _short(was.text, was.rc),
                    _short(is_now.text, is_now.rc),
                    f"`{command}`'s output changed",
                )
            )
    return found


def cron_findings(before: Sequence[CronJob], now: Sequence[CronJob]) -> list[Finding]:
    """Cron jobs scheduled before and gone now (warnings: the maintenance may have restored an old
    crontab), and new ones (information). A job is its schedule, user and command."""
    was = {job.key: job for job in before}
    is_now = {job.key: job for job in now}
    found = [
        Finding(
            "cron",
            Level.WARNING,
            job.label,
            "scheduled",
            "gone",
            f"cron job {job.label} is no longer scheduled",
        )
        for key, job in sorted(was.items())
        if key not in is_now
    ]
    found += [
        Finding("cron", Level.INFO, job.label, "", "scheduled", f"new cron job {job.label}")
        for key, job in sorted(is_now.items())
        if key not in was
    ]
    return found


def standing_problems(now: HostState) -> list[Finding]:
    """What is wrong without any history: enabled services not running, failed units, fstab not mounted."""
    found: list[Finding] = []
    for name, service in sorted(now.services.items()):
        if service.failed:
            found.append(Finding("failed_unit", Level.FAILURE, name, "", "failed", f"{name} has failed"))
        elif service.enabled and not service.running:
            found.append(
                Finding(
                    "service",
                    Level.FAILURE,
                    name,
                    "enabled",
                    "not running",
                    f"{name} is enabled at boot and not running",
                )
            )
    for entry in now.fstab:
        if entry.target.startswith("/") and now.mount(entry.target) is None:
            found.append(
                Finding(
                    "fstab",
                    Level.FAILURE,
                    entry.target,
                    "in fstab",
                    "not mounted",
                    f"{entry.target} is in fstab and not mounted",
                )
            )
    return found


def site_findings(before: Sequence[Mapping[str, Any]], now: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """Site checks (``check_site``'s ``checks``) whose answer changed for the same URL."""
    earlier = {str(check["url"]): check for check in before}
    found = []
    for check in now:
        was = earlier.get(str(check["url"]))
        if was is None:
            continue
        then, answer = _answer(was), _answer(check)
        if then != answer:
            level = Level.FAILURE if check.get("error") and not was.get("error") else Level.WARNING
            found.append(
                Finding(
                    "site",
                    level,
                    str(check["url"]),
                    then,
                    answer,
                    f"{check['url']} answered {answer}, before {then}",
                )
            )
    return found


def merged(*groups: Sequence[Finding]) -> list[Finding]:
    """The findings of several checks, each (kind, subject) once, failures first."""
    seen: dict[tuple[str, str], Finding] = {}
    for group in groups:
        for finding in group:
            key = ("service" if finding.kind == "failed_unit" else finding.kind, finding.subject)
            seen.setdefault(key, finding)
    order = {Level.FAILURE: 0, Level.WARNING: 1, Level.INFO: 2}
    return sorted(seen.values(), key=lambda f: order[f.level])


def _answer(check: Mapping[str, Any]) -> str:
    status = check.get("status")
    text = "" if check.get("text_found") in (None, True) else ", text missing"
    return f"{status}{text}" if status is not None else "no answer"


def _short(text: str, rc: int | None, limit: int = 60) -> str:
    line = " / ".join(part.strip() for part in text.strip().splitlines() if part.strip())
    line = line if len(line) <= limit else line[: limit - 1] + "…"
    return f"{line} (exit {rc})" if rc else line
