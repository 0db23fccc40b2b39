"""alpine: Alpine 3.20, chronyd under OpenRC (rc-service/rc-update stand-ins, BusyBox-style date, no bash)."""

from __future__ import annotations

import re
from pathlib import Path

from lab import network
from lab.profiles import parts
from lab.profiles.base import Profile
from lab.scenario import Scenario

MACHINE_DATE = Path("/usr/bin/date")
NTPD_FILES = ("/usr/sbin/ntpd", "/usr/bin/ntpq", "/etc/init.d/ntpd")


def populate(template: Path, cache: Path) -> None:
    parts.base(template)
    for program in ("rc-service", "rc-update", "openrc-run", "rc-status"):
        parts.standin(template, "openrc", f"usr/sbin/{program}")
    parts.install(MACHINE_DATE, template / parts.LAB_LIB / "gnu-date")
    parts.standin(template, "busybox-date", "usr/bin/date")
    parts.chrony(template, "etc/chrony/chrony.conf", network.NTP_SERVER)
    parts.ntpsec(template, cache, "etc/ntp.conf", network.NTP_SERVER)
    for level, services in (("default", ("chronyd", "apache2")), ("boot", ()), ("sysinit", ())):
        folder = template / "etc/runlevels" / level
        folder.mkdir(parents=True, exist_ok=True)
        for service in services:
            (folder / service).symlink_to(f"/etc/init.d/{service}")
    _login_shells_to_sh(template)


def _login_shells_to_sh(template: Path) -> None:
    """Alpine has no bash: every account whose shell was bash logs in with /bin/sh."""
    passwd = template / "etc/passwd"
    passwd.write_text(re.sub(r":/(usr/)?bin/bash$", ":/bin/sh", passwd.read_text(), flags=re.MULTILINE))


def start_script(scenario: Scenario) -> str:
    lines = parts.remove_unless(scenario.second_daemon == "ntpd", NTPD_FILES)
    lines += parts.common_start(scenario)
    if scenario.daemon == "running":
        lines.append("rc-service chronyd start")
    elif scenario.daemon == "crashed":
        lines += [
            f"mkdir -p /run/chrony /run/openrc/started && echo {parts.STALE_PID} >/run/chrony/chronyd.pid",
            "ln -s /etc/init.d/chronyd /run/openrc/started/chronyd",
        ]
    if scenario.site == "up":
        lines.append("rc-service apache2 start")
    return "\n".join(lines) + "\n"


ALPINE = Profile(
    name="alpine",
    description="Alpine 3.20, chronyd under OpenRC: clock ~3 h behind, chronyd stopped, backup missed",
    file_trees=("common", "site", "alpine"),
    absent=(
        "usr/lib/os-release",
        "etc/debian_version",
        "etc/chrony/chrony.keys",
        "usr/sbin/service",
        "usr/bin/systemctl",
        "usr/bin/timedatectl",
        "usr/bin/bash",
        "usr/lib/systemd/systemd-timesyncd",
    ),
    scenario=Scenario(offset=-3 * 3600.0, daemon="stopped", ntpdate=False),
    backup=parts.BACKUP,
    populate=populate,
    seed_files=parts.seeds,
    start_script=start_script,
    second_daemons=("ntpd",),
)
