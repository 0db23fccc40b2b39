"""el9: Rocky Linux 9 with chronyd under systemd (real chronyd -x; chronyc and chronyd -q stand-ins)."""

from __future__ import annotations

from pathlib import Path

from lab import network
from lab.profiles import parts
from lab.profiles.base import Profile
from lab.scenario import Scenario

CHRONYD_UNIT = """\
[Unit]
Description=NTP client/server
Conflicts=ntpd.service systemd-timesyncd.service

[Service]
Type=forking
PIDFile=/run/chrony/chronyd.pid
EnvironmentFile=-/etc/sysconfig/chronyd
RuntimeDirectory=chrony
ExecStart=/usr/sbin/chronyd $OPTIONS

[Install]
WantedBy=multi-user.target
"""
NTPD_UNIT = """\
[Unit]
Description=Network Time Service
Conflicts=chronyd.service systemd-timesyncd.service

[Service]
Type=forking
PIDFile=/run/ntpd.pid
EnvironmentFile=-/etc/sysconfig/ntpd
ExecStart=/usr/sbin/ntpd $OPTIONS

[Install]
WantedBy=multi-user.target
"""
NTPD_FILES = ("/usr/sbin/ntpd", "/usr/bin/ntpq", f"/{parts.UNITS}/ntpd.service")


def populate(template: Path, cache: Path) -> None:
    parts.base(template)
    parts.systemd(template, ("chronyd.service",))
    parts.chrony(template, "etc/chrony.conf", network.NTP_SERVER)
    parts.unit(template, "chronyd.service", CHRONYD_UNIT, enabled=True)
    parts.ntpsec(template, cache, "etc/ntp.conf", network.NTP_SERVER)
    parts.unit(template, "ntpd.service", NTPD_UNIT, enabled=False)
    parts.site_unit(template, "httpd.service")


def start_script(scenario: Scenario) -> str:
    lines = parts.remove_unless(scenario.second_daemon == "ntpd", NTPD_FILES)
    lines += parts.systemd_start(scenario, "chronyd", "/run/chrony/chronyd.pid")
    return "\n".join(lines) + "\n"


EL9 = Profile(
    name="el9",
    description="Rocky Linux 9, chronyd under systemd: clock ~3 h behind, chronyd stopped, backup missed",
    file_trees=("common", "site", "el9"),
    absent=(
        "usr/lib/os-release",
        "etc/debian_version",
        "etc/chrony",
        "etc/default",
        "usr/sbin/service",
        "usr/lib/systemd/systemd-timesyncd",
    ),
    scenario=Scenario(offset=-3 * 3600.0, daemon="stopped", ntpdate=False),
    backup=parts.BACKUP,
    populate=populate,
    seed_files=parts.seeds,
    start_script=start_script,
    second_daemons=("ntpd",),
)
