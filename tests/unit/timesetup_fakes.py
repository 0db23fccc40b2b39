"""Probe outputs of the modern time setups (systemd, OpenRC, SysV; chrony, ntpsec, ntpd, timesyncd)."""

from __future__ import annotations

import time

from runbook.testing import NTPQ_INIT, NTPQ_SYNCED, section

TRACKING_SYNCED = """\
Reference ID    : 0ACD0001 (10.205.0.1)
Stratum         : 3
System time     : 0.000012447 seconds slow of NTP time
Leap status     : Normal
"""
TRACKING_UNSYNCED = """\
Reference ID    : 00000000 ()
Stratum         : 0
System time     : 0.000000000 seconds fast of NTP time
Leap status     : Not synchronised
"""


def setup_probe(
    init: str,
    daemons: dict[str, tuple[str, bool, bool]],
    *,
    tools: tuple[str, ...] = ("ntpdate", "ntpd", "ntpq", "chronyd", "chronyc", "timedatectl", "hwclock"),
    tracking: str | None = None,
    ntp_synced: bool | None = None,
    makestep: str = "makestep 1 3",
    flavour: str = "classic",
    rtc: bool = True,
) -> str:
    """A probe's output: ``daemons`` maps family -> (service name, running, enabled)."""
    out = section("hostname", "h1") + section("os", "Test Linux") + section("init", init)
    if init == "openrc":
        listed = "".join(f"  {name} | default\n" for name, _, enabled in daemons.values() if enabled)
        out += section("openrc.default", listed + "  sshd | default\n", 0)
    for family in ("chronyd", "ntpsec", "ntpd", "systemd-timesyncd"):
        if family not in daemons:
            out += section(f"daemon.{family}", "installed=no")
            continue
        name, running, enabled = daemons[family]
        out += section(f"daemon.{family}", f"installed=yes\nservice={name}")
        if init == "systemd":
            out += section(
                f"daemon.{family}.status", "active" if running else "inactive", 0 if running else 3
            )
            out += section(
                f"daemon.{family}.enabled", "enabled" if enabled else "disabled", 0 if enabled else 1
            )
        elif init == "openrc":
            out += section(
                f"daemon.{family}.status",
                " * status: started" if running else " * status: stopped",
                0 if running else 3,
            )
        else:
            state = "on" if enabled else "off"
            out += section(
                f"daemon.{family}.status", "running" if running else "stopped", 0 if running else 3
            )
            out += section(f"daemon.{family}.enabled", f"{name}\t0:off\t2:{state}\t3:{state}\t6:off", 0)
        if family in {"ntpd", "ntpsec"} and running:
            out += section("sync.ntpq", NTPQ_SYNCED if tracking == "synced" else NTPQ_INIT, 0)
    if "chronyc" in tools:
        if tracking is None and not daemons.get("chronyd", ("", False, False))[1]:
            out += section("sync.chronyc", "506 Cannot talk to daemon", 1)
        else:
            out += section("sync.chronyc", TRACKING_SYNCED if tracking == "synced" else TRACKING_UNSYNCED, 0)
    if init == "systemd" and "timedatectl" in tools:
        synced = "yes" if ntp_synced else "no"
        out += section("sync.timedatectl", f"Timezone=Etc/UTC\nNTP=yes\nNTPSynchronized={synced}", 0)
    if "chronyd" in tools:
        out += section("chrony.conf", f"file /etc/chrony.conf\n{makestep}")
    out += section("ntpdate", flavour if "ntpdate" in tools else "")
    out += section("rtc", "yes" if rtc else "no")
    out += section("tools", "\n".join(f"{tool} /usr/sbin/{tool}" for tool in tools))
    return out + section("date", str(int(time.time())))
