"""debian12: Debian 12 with ntpsec under systemd (the real ntpd, ntpq and ntpsec's ntpdate wrapper)."""

from __future__ import annotations

from pathlib import Path

from lab import network
from lab.profiles import parts
from lab.profiles.base import Profile
from lab.scenario import Scenario

NTPSEC_UNIT = """\
[Unit]
Description=Network Time Service
Conflicts=systemd-timesyncd.service chrony.service

[Service]
Type=forking
PIDFile=/run/ntpd.pid
EnvironmentFile=-/etc/default/ntpsec
# lab: Debian's ntp-systemd-wrapper adds -u ntpsec:ntpsec, with which ntpd dies without CAP_SYS_TIME
ExecStart=/usr/sbin/ntpd -p /run/ntpd.pid -c /etc/ntpsec/ntp.conf $NTPD_OPTS

[Install]
Alias=ntp.service
Alias=ntpd.service
WantedBy=multi-user.target
"""
CHRONY_UNIT = """\
[Unit]
Description=chrony, an NTP client/server
Conflicts=ntpsec.service systemd-timesyncd.service

[Service]
Type=forking
PIDFile=/run/chrony/chronyd.pid
EnvironmentFile=-/etc/default/chrony
RuntimeDirectory=chrony
ExecStart=!/usr/sbin/chronyd $DAEMON_OPTS

[Install]
Alias=chronyd.service
WantedBy=multi-user.target
"""
CHRONY_FILES = ("/usr/sbin/chronyd", "/usr/bin/chronyc", f"/{parts.UNITS}/chrony.service")


def populate(template: Path, cache: Path) -> None:
    parts.base(template)
    parts.systemd(template, ("chrony.service",))
    parts.ntpsec(template, cache, "etc/ntpsec/ntp.conf", network.NTP_SERVER)
    parts.unit(template, "ntpsec.service", NTPSEC_UNIT, enabled=True)
    parts.chrony(template, "etc/chrony/chrony.conf", network.NTP_SERVER)
    parts.unit(template, "chrony.service", CHRONY_UNIT, enabled=False)
    parts.site_unit(template, "apache2.service")


def start_script(scenario: Scenario) -> str:
    lines = parts.remove_unless(scenario.second_daemon == "chronyd", CHRONY_FILES)
    lines += parts.systemd_start(scenario, "ntpsec", "/run/ntpd.pid")
    return "\n".join(lines) + "\n"


DEBIAN12 = Profile(
    name="debian12",
    description="Debian 12, ntpsec under systemd: clock ~3 h behind, ntpsec stopped, nightly backup missed",
    file_trees=("common", "site", "debian12"),
    absent=("usr/lib/systemd/systemd-timesyncd",),
    scenario=Scenario(offset=-3 * 3600.0, daemon="stopped"),
    backup=parts.BACKUP,
    populate=populate,
    seed_files=parts.seeds,
    start_script=start_script,
    second_daemons=("chronyd",),
)
