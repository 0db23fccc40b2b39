"""``runbook check`` / ``invoke check``: the Monitoring Plugins check as an Invoke task.

Output goes to stdout only (engines ignore stderr) and the exit status is the state. A flag
or setting it cannot use is UNKNOWN (exit 3), as the guidelines ask: an engine would read the
usual usage status 2 as CRITICAL.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, ClassVar, NoReturn

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import Task, task

from runbook.check.output import SERVICE, overall, render, render_json
from runbook.check.ranges import RangeError, Thresholds, parse_range
from runbook.check.runner import check_hosts
from runbook.check.states import State, parse_level
from runbook.check.verdict import CheckOptions
from runbook.configuration import gather
from runbook.durations import parse_duration
from runbook.errors import DurationError, SettingsError, StateFileError
from runbook.hosts import groups_of, select_hosts

DEFAULT_WARNING = "0.5"
DEFAULT_CRITICAL = "1"

_HELP = {
    "host": "host, pattern or @group to check (repeatable); looked up in --ssh-config",
    "hosts_file": "file of hosts, one per line (repeatable)",
    "warning": f"offset range that warns, in the plugins' range syntax (default {DEFAULT_WARNING})",
    "critical": f"offset range that is critical (default {DEFAULT_CRITICAL})",
    "daemon": "state when no time daemon runs (or it is disabled at boot: at most warning): "
    "critical (default), warning or ignore",
    "sync": "state when the daemon runs but is not synchronised: warning (default), critical or ignore",
    "backup": "state when the configured backup is stale: warning (default), critical or ignore",
    "json": "print the result as JSON (same states and exit status)",
    "state_file": "remember each host's boot between checks: WARNING when it rebooted or was suspended",
    "jump": "clock time lost unseen by the boot clock that counts as a suspension (default 2s)",
    "hold": "how long a detected reboot or suspension keeps warning (default 1h)",
    "timeout": "seconds to wait for a host's connection and probe (default 30)",
    "ssh_config": "OpenSSH client config to read hosts from",
    "ntp_server": "NTP server to use as reference (repeatable; first answering wins)",
    "accept_new_host_keys": "record host keys never seen before (a changed key is always refused)",
}


class _PluginTask(Task[Any]):
    """A task whose flags get the guidelines' short forms: -H host, -w, -c, -t."""

    SHORT: ClassVar[dict[str, str]] = {"host": "H", "warning": "w", "critical": "c", "timeout": "t"}

    def arg_opts(self, name: str, default: str, taken_names: set[str]) -> dict[str, Any]:
        opts: dict[str, Any] = super().arg_opts(name, default, taken_names)
        if name in self.SHORT:
            opts["names"] = [*opts["names"], self.SHORT[name]]
        return opts


@task(klass=_PluginTask, iterable=["host", "hosts_file", "ntp_server"], help=_HELP, auto_shortflags=False)
def check(
    c: Context,
    host: list[str],
    hosts_file: list[str] | None = None,
    warning: str = DEFAULT_WARNING,
    critical: str = DEFAULT_CRITICAL,
    daemon: str = "critical",
    sync: str = "warning",
    backup: str = "warning",
    json: bool = False,
    state_file: str | None = None,
    jump: str = "2s",
    hold: str = "1h",
    timeout: str = "30",
    ssh_config: str | None = None,
    ntp_server: list[str] | None = None,
    accept_new_host_keys: bool = False,
) -> None:
    """Check hosts' clocks, time daemons and backups as a Monitoring Plugins check (read-only)."""
    try:
        options = CheckOptions(
            Thresholds(parse_range(warning, "--warning"), parse_range(critical, "--critical")),
            daemon=parse_level(daemon, "--daemon"),
            sync=parse_level(sync, "--sync"),
            backup=parse_level(backup, "--backup"),
        )
        limit = _seconds(timeout, "--timeout")
        flags = dict(
            ssh_config=ssh_config,
            ntp_servers=ntp_server or None,
            accept_new_host_keys=accept_new_host_keys or None,
            command_timeout=limit,
            connect_timeout=min(limit, 10.0),
            ntp_timeout=min(limit, 5.0),
        )
        sources = gather(c.config, flags)
        settings = sources.settings()
        hosts = select_hosts(host, hosts_files=hosts_file or [], ssh_config=settings.ssh.config)
        members = groups_of(settings.ssh.config)
        per_host = {name: sources.for_host(name, members) for name in hosts} if sources.per_host else {}
        jump_s, hold_s = _seconds(jump, "--jump"), _seconds(hold, "--hold")
    except (RangeError, SettingsError, ValueError) as exc:
        _unknown(str(exc))
    try:
        checks = check_hosts(
            hosts,
            settings,
            options,
            per_host=per_host,
            state_file=Path(state_file) if state_file else None,
            jump=jump_s,
            hold=hold_s,
        )
    except StateFileError as exc:
        _unknown(str(exc))
    text = render_json(checks) if json else render(checks, options.thresholds)
    sys.stdout.write(text)
    sys.stdout.flush()
    state = overall(checks)
    if state is not State.OK:
        raise Exit(code=int(state))


def _seconds(text: str, flag: str) -> float:
    try:
        value = parse_duration(text)
    except DurationError as exc:
        raise ValueError(f"{flag}: {exc}") from None
    if value <= 0:
        raise ValueError(f"{flag} must be more than zero, not {text!r}")
    return value


def _unknown(message: str) -> NoReturn:
    """Print the UNKNOWN line for a problem found before any host was checked, and exit 3."""
    print(f"{SERVICE} UNKNOWN - {message}")
    sys.stdout.flush()
    raise Exit(code=int(State.UNKNOWN))
