"""Fake hosts for step tests: MockContext answering the clock batch, the probe and given commands."""

from __future__ import annotations

import re
import time
from typing import Any

from invoke.context import MockContext
from invoke.runners import Result

from runbook import clock, ntpconf
from runbook.settings import BackupSettings, Settings, bind_settings, build_settings

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
    object.__setattr__(c, "_runbook_probe_token", "")  # canned probe output has plain headers
    values = {"ntp_servers": ["ntp.test"], **(settings or {})}
    built: Settings = build_settings(values)
    if backup is not None:
        built = Settings(**{**built.__dict__, "backup": backup})
    bind_settings(c, built)
    return c


def fixed_reference(offset: float = 0.0, delay: float = 0.002) -> clock.Reference:
    return clock.Reference(server="ntp.test", stratum=2, offset=offset, delay=delay, measured_at=time.time())


def commands(c: MockContext) -> list[str]:
    """The commands run on ``c``, in order."""
    run: Any = c.run
    return [call.args[0] for call in run.call_args_list]
