"""Unit-testing steps without a host: a fake host that answers the probe and records commands.

``fake_host(offset=..., probe=..., run={command or regex: Result})`` is an Invoke
``MockContext`` with a runbook session attached: it answers the clock samples and the probe
(``probe_output(...)``: a CentOS 6 host in the state asked for) and the commands given, and
records every command (``commands(host)``). ``reference(offset)`` stands in for the NTP
reference while a test runs, so steps that measure the clock need no NTP server::

    host = fake_host(offset=10800, run={"LC_ALL=C df -P /": Result("...")})
    with reference():
        result = disk_space(host)
    assert result.ok and commands(host)[-1] == "LC_ALL=C df -P /"

docs/custom-runbook.md has a tested example.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from unittest import mock

from invoke.context import MockContext
from invoke.runners import Result

from runbook import clock, ntpconf
from runbook.session import attach
from runbook.settings import BackupSettings, Settings, build_settings

CLOCK = re.compile(r"^LC_ALL=C sh -c 'echo @@runbook:clock@@")
PROBE = re.compile(r"^LC_ALL=C LC_ALL=C; export LC_ALL; rb_s='.*exec </dev/null", re.DOTALL)
NTP_CONF = re.compile(r"^LC_ALL=C grep -HE .*ntp\.conf")
SYNC_WAIT = re.compile(r"^LC_ALL=C sh -c 'PATH=.*rb_i=0", re.DOTALL)

NTPQ_SYNCED = """\
     remote           refid      st t when poll reach   delay   offset  jitter
==============================================================================
*10.200.0.1      .LOCL.           1 u   12   64    1    0.123    0.456   0.012
"""
NTPQ_INIT = """\
     remote           refid      st t when poll reach   delay   offset  jitter
==============================================================================
 10.200.0.1      .INIT.          16 u    -   64    0    0.000    0.000   0.000
"""
RESTART_SEED = """\
Shutting down ntpd:                                        [FAILED]
Starting ntpd:                                             [  OK  ]
"""


def section(name: str, body: str, rc: int | None = None) -> str:
    """One probe section as the probe prints it (with its ``.rc`` section when ``rc`` is given)."""
    text = f"@@runbook:{name}@@\n{body.rstrip()}\n" if body.strip() else f"@@runbook:{name}@@\n"
    return text + (f"@@runbook:{name}.rc@@\n{rc}\n" if rc is not None else "")


def probe_output(
    *,
    daemon: str = "stopped",
    enabled: bool = False,
    synced: bool = False,
    tools: tuple[str, ...] = ("ntpdate", "ntpd", "ntpq", "hwclock"),
    init: str = "sysv",
    backup_file: str | None = None,
    backup_file_rc: int = 0,
    check: tuple[int, str] | None = None,
) -> str:
    """What the probe prints on a CentOS 6 host in the given state."""
    out = section("hostname", "web01") + section("os", "CentOS release 6.10 (Final)") + section("init", init)
    if daemon == "absent":
        out += section("daemon.ntpd", "installed=no\npidfile=absent")
    else:
        pid = {"running": "running", "stopped": "absent", "crashed": "stale"}[daemon]
        out += section("daemon.ntpd", f"installed=yes\npidfile={pid}")
        status = {
            "running": ("ntpd (pid  1234) is running...", 0),
            "stopped": ("ntpd is stopped", 3),
            "crashed": ("ntpd dead but pid file exists", 1),
        }[daemon]
        out += section("daemon.ntpd.status", status[0], status[1])
        state = "on" if enabled else "off"
        levels = f"ntpd           \t0:off\t1:off\t2:{state}\t3:{state}\t4:{state}\t5:{state}\t6:off"
        out += section("daemon.ntpd.enabled", levels, 0)
        if daemon == "running":
            out += section("sync.ntpq", NTPQ_SYNCED if synced else NTPQ_INIT, 0)
    out += section("tools", "\n".join(f"{tool} /usr/sbin/{tool}" for tool in tools))
    if backup_file is not None:
        out += section("backup.file", backup_file, backup_file_rc)
    if check is not None:
        out += section("backup.check", check[1], check[0])
    return out + section("date", str(int(time.time())))


def clock_output(offset: float, samples: int = 3) -> str:
    """The clock batch of a host whose clock is ``offset`` seconds behind."""
    now = time.time() - offset
    return "@@runbook:clock@@\ndate\n" + "".join(f"{now:.9f}\n" for _ in range(samples))


def fake_host(
    *,
    offset: float = 0.0,
    probe: str | None = None,
    run: dict[Any, Any] | None = None,
    settings: dict[str, Any] | None = None,
    backup: BackupSettings | None = None,
) -> MockContext:
    """A MockContext answering the clock batch, the probe and ``run`` (command or regex -> Result(s))."""
    answers: dict[Any, Any] = {
        CLOCK: Result(clock_output(offset)),
        PROBE: Result(probe if probe is not None else probe_output()),
        NTP_CONF: Result(f"{ntpconf.CONFIG_FILES['ntpd'][0]}:server ntp.test iburst\n"),
    }
    answers.update(run or {})
    c = MockContext(run=answers)
    values = {"ntp_servers": ["ntp.test"], **(settings or {})}
    built: Settings = build_settings(values)
    if backup is not None:
        built = replace(built, backup=backup)
    attach(c, built).probe_token = ""  # canned probe output has plain headers
    return c


def fixed_reference(offset: float = 0.0, delay: float = 0.002) -> clock.Reference:
    """An NTP reference from ``ntp.test`` measured now: this controller ``offset`` s off true time."""
    return clock.Reference(server="ntp.test", stratum=2, offset=offset, delay=delay, measured_at=time.time())


@contextmanager
def reference(offset: float = 0.0) -> Iterator[clock.Reference]:
    """While inside, steps take ``fixed_reference(offset)`` as their NTP reference (no NTP query)."""
    made = fixed_reference(offset)
    with mock.patch.object(clock, "reference_time", lambda settings, **_: made):
        yield made


def commands(c: MockContext) -> list[str]:
    """The commands run on ``c``, in order."""
    run: Any = c.run
    return [call.args[0] for call in run.call_args_list]


__all__ = [
    "CLOCK",
    "NTPQ_INIT",
    "NTPQ_SYNCED",
    "PROBE",
    "RESTART_SEED",
    "SYNC_WAIT",
    "clock_output",
    "commands",
    "fake_host",
    "fixed_reference",
    "probe_output",
    "reference",
    "section",
]
