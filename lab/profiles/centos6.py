"""centos6: a CentOS 6 server just back from maintenance (SysV service/chkconfig, ntpd, classic ntpdate)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from lab import network
from lab.crontabs import daily_at, day_stamp, hide_machine_cron
from lab.errors import LabError
from lab.layout import STANDINS_DIR
from lab.ntpsec import ensure_ntpsec
from lab.profiles import parts
from lab.profiles.base import Profile
from lab.scenario import Scenario

STALE_NTPD_PID = 31337
# the other seeded cron jobs, as (seconds before now, zone for CRON_TZ or None)
SALES_REPORT_BEFORE_NOW = (90 * 60, "Asia/Tokyo")
SYNC_REPORTS_BEFORE_NOW = 40 * 60
ARCHIVE_BEFORE_NOW = 5 * 3600
CRON_USER = "admin"

# stand-in file -> (where it goes in the template, mode)
STANDINS = {
    "ntpdate-classic": ("usr/sbin/ntpdate", 0o755),
    "chkconfig": ("usr/sbin/chkconfig", 0o755),
    "ntpd.init": ("etc/init.d/ntpd", 0o755),
    "ntpd.sysconfig": ("etc/sysconfig/ntpd", 0o644),
    "service-el6": ("usr/sbin/service", 0o755),
}
NTP_CONF = f"""\
# CentOS 6 style ntp.conf: the lab's chronyd is the only upstream.
driftfile /var/lib/ntp/drift
restrict default nomodify notrap nopeer noquery
restrict 127.0.0.1
server {network.NTP_SERVER} iburst
# one server: let ntpd select it
tos minclock 1 minsane 1
"""


def populate(template: Path, cache: Path) -> None:
    """Real ntpsec ntpd and ntpq, the stand-ins (with /etc/sysconfig/ntpd) and ntp.conf."""
    ntpsec_root = ensure_ntpsec(cache)
    for relative in ("usr/sbin/ntpd", "usr/bin/ntpq"):
        _install(ntpsec_root / relative, template / relative, 0o755)
    for source, (target, mode) in STANDINS.items():
        if not (STANDINS_DIR / source).is_file():
            raise LabError(f"stand-in {STANDINS_DIR / source} is missing (lab/standins is incomplete)")
        _install(STANDINS_DIR / source, template / target, mode)
    (template / "etc/ntp.conf").write_text(NTP_CONF)
    for service in ("ntpd", "httpd"):
        _register_sysv(template, service)
    for folder in ("var/lib/ntp", "var/lib/backup", "var/backups/lab"):
        (template / folder).mkdir(parents=True, exist_ok=True)
    hide_machine_cron(template)


def _install(source: Path, target: Path, mode: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(mode)


def _register_sysv(template: Path, service: str) -> None:
    """What ``chkconfig --add`` did when the package was installed: rcN.d links per the script's header."""
    script = (template / "etc/init.d" / service).read_text()
    header = re.search(r"^# chkconfig: (\S+) (\d+) (\d+)$", script, re.MULTILINE)
    if header is None:
        raise LabError(f"etc/init.d/{service} has no '# chkconfig:' header")
    levels, start, stop = header.groups()
    for level in range(7):
        link = f"S{start}{service}" if str(level) in levels else f"K{stop}{service}"
        folder = template / f"etc/rc{level}.d"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / link).symlink_to(f"../init.d/{service}")


def seed_files(scenario: Scenario, now: float) -> Mapping[str, str]:
    """The shared missed nightly backup (``parts.backup_seeds``) and CentOS 6's other cron jobs."""
    return {**parts.backup_seeds(now), **cron_seeds(now)}


def cron_seeds(now: float) -> Mapping[str, str]:
    """The rest of the host's cron state, relative to ``now``: a CRON_TZ job and a user crontab
    inside the window (the ~3 h before now), a job 5 h before now (outside it), and anacron's
    timestamps (cron.daily last ran yesterday, so it is due; weekly and monthly are not)."""
    seconds, zone = SALES_REPORT_BEFORE_NOW
    return {
        "etc/cron.d/sales-report": (
            "# the Tokyo office's daily report, on Tokyo time\nMAILTO=sales-ops\n"
            f"CRON_TZ={zone}\n{daily_at(now - seconds, zone)} root /usr/local/bin/sales-report\n"
        ),
        "etc/cron.d/archive-logs": (
            f"# nightly log archive\n{daily_at(now - ARCHIVE_BEFORE_NOW)} root /usr/local/bin/archive-logs\n"
        ),
        f"var/spool/cron/{CRON_USER}": (
            f"MAILTO={CRON_USER}\n# report cache sync\n"
            f"{daily_at(now - SYNC_REPORTS_BEFORE_NOW)} /usr/local/bin/sync-reports\n"
        ),
        "var/spool/anacron/cron.daily": f"{day_stamp(now - 86400)}\n",
        "var/spool/anacron/cron.weekly": f"{day_stamp(now - 3 * 86400)}\n",
        "var/spool/anacron/cron.monthly": f"{day_stamp(now - 10 * 86400)}\n",
    }


def start_script(scenario: Scenario) -> str:
    """Shell that puts a fresh host into ``scenario``'s daemon, ntpdate and site state."""
    lines = []
    if not scenario.ntpdate:
        lines.append("rm -f /usr/sbin/ntpdate")
    if scenario.daemon == "running":
        lines.append("service ntpd start")
    elif scenario.daemon == "crashed":
        lines += [f"echo {STALE_NTPD_PID} >/var/run/ntpd.pid", ": >/var/lock/subsys/ntpd"]
    if scenario.site == "up":
        lines.append("service httpd start")
    return "\n".join(lines) + "\n"


CENTOS6 = Profile(
    name="centos6",
    description="CentOS 6 after maintenance: clock ~3 h behind, ntpd stopped, nightly backup missed",
    file_trees=("common", "site", "centos6"),
    absent=(
        "etc/os-release",
        "usr/lib/os-release",
        "etc/debian_version",
        "usr/sbin/chronyd",
        "usr/bin/chronyc",
        "usr/bin/ntpdig",
        "usr/bin/systemctl",
        "usr/bin/timedatectl",
    ),
    scenario=Scenario(offset=-3 * 3600.0, daemon="stopped"),
    backup=parts.BACKUP,
    populate=populate,
    seed_files=seed_files,
    start_script=start_script,
)
