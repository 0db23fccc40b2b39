"""ubuntu: Ubuntu 24.04 with systemd-timesyncd (timesyncd, timedatectl and systemctl stand-ins)."""

from __future__ import annotations

from pathlib import Path

from lab import network
from lab.profiles import parts
from lab.profiles.base import Profile
from lab.profiles.debian12 import CHRONY_FILES, CHRONY_UNIT
from lab.scenario import Scenario

TIMESYNCD_UNIT = """\
[Unit]
Description=Network Time Synchronization
Conflicts=chrony.service ntpsec.service

[Service]
Type=simple
# lab: LAB_FIRST_POLL delays the first poll of a daemon that ran through the suspension
EnvironmentFile=-/run/runbook-lab/timesyncd.env
ExecStart=/usr/lib/systemd/systemd-timesyncd

[Install]
Alias=dbus-org.freedesktop.timesync1.service
WantedBy=sysinit.target
"""
# a daemon that ran through the suspension: synchronised before it, next poll far away (timesyncd's max)
RESUMED_POLL = 2048


def populate(template: Path, cache: Path) -> None:
    parts.base(template)
    parts.systemd(template, ("systemd-timesyncd.service", "chrony.service"))
    parts.standin(template, "systemd-timesyncd", "usr/lib/systemd/systemd-timesyncd")
    timesyncd_conf = template / "etc/systemd/timesyncd.conf"
    timesyncd_conf.parent.mkdir(parents=True, exist_ok=True)
    timesyncd_conf.write_text(f"[Time]\nNTP={network.NTP_SERVER}\n")
    parts.unit(template, "systemd-timesyncd.service", TIMESYNCD_UNIT, enabled=True)
    parts.chrony(template, "etc/chrony/chrony.conf", network.NTP_SERVER)
    parts.unit(template, "chrony.service", CHRONY_UNIT, enabled=False)
    parts.site_unit(template, "apache2.service")


def start_script(scenario: Scenario) -> str:
    lines = parts.remove_unless(scenario.second_daemon == "chronyd", CHRONY_FILES)
    if scenario.daemon == "running":
        lines.append(
            f"mkdir -p /run/runbook-lab && echo LAB_FIRST_POLL={RESUMED_POLL} >/run/runbook-lab/timesyncd.env"
        )
    lines += parts.systemd_start(
        scenario, "systemd-timesyncd", "/run/runbook-lab/units/systemd-timesyncd.service.pid"
    )
    lines.append("rm -f /run/runbook-lab/timesyncd.env")
    return "\n".join(lines) + "\n"


UBUNTU = Profile(
    name="ubuntu",
    description="Ubuntu 24.04, systemd-timesyncd: clock ~3 h behind, timesyncd stopped, backup missed",
    file_trees=("common", "site", "ubuntu"),
    absent=("usr/sbin/ntpd", "usr/bin/ntpq"),
    scenario=Scenario(offset=-3 * 3600.0, daemon="stopped", ntpdate=False),
    backup=parts.BACKUP,
    populate=populate,
    seed_files=parts.seeds,
    start_script=start_script,
    second_daemons=("chronyd",),
)
