"""Building blocks the systemd and OpenRC profiles share: stand-ins, units, chrony, ntpsec, RTC, backup.

Stand-ins live in ``lab/standins``; Python ones import ``labntp`` from /usr/lib/runbook-lab.
Units for the ``systemctl`` stand-in go to /usr/lib/runbook-lab/units, enablement markers to
/etc/runbook-lab/enabled (see the stand-in's docstring).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

from lab.crontabs import hide_machine_cron
from lab.errors import LabError
from lab.layout import STANDINS_DIR
from lab.ntpsec import ensure_ntpsec
from lab.profiles.base import BackupSpec
from lab.scenario import Scenario

LAB_LIB = "usr/lib/runbook-lab"
UNITS = f"{LAB_LIB}/units"
ENABLED = "etc/runbook-lab/enabled"
NTP_UNITS_DIR = "usr/lib/systemd/ntp-units.d"
MACHINE_CHRONYD = Path("/usr/sbin/chronyd")
STALE_PID = 31337
BACKUP_MAX_AGE = 26 * 3600.0
SCHEDULED_BEFORE_NOW = 2 * 3600 + 50 * 60
BACKUP_RUNTIME = 47
BACKUP = BackupSpec(
    command="/usr/local/bin/backup.sh",
    evidence_file="/var/lib/backup/last-success",
    check_command=f"/usr/local/bin/backup-check {BACKUP_MAX_AGE:.0f}",
    max_age=BACKUP_MAX_AGE,
)
ONE_SHOT_TOOLS = ("/usr/sbin/ntpdate", "/usr/bin/ntpdig")


def install(source: Path, target: Path, mode: int = 0o755) -> None:
    if not source.is_file():
        raise LabError(f"{source} is missing: the lab's stand-ins or the machine's packages are incomplete")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(mode)


def standin(template: Path, name: str, target: str, mode: int = 0o755) -> None:
    install(STANDINS_DIR / name, template / target, mode)


def base(template: Path) -> None:
    """What every new profile has: labntp, the hwclock stand-in, backup folders, only its own cron."""
    standin(template, "labntp", f"{LAB_LIB}/labntp.py", 0o644)
    standin(template, "hwclock", "usr/sbin/hwclock")
    for folder in ("var/lib/backup", "var/backups/lab", "var/lib/runbook-lab", "etc/runbook-lab"):
        (template / folder).mkdir(parents=True, exist_ok=True)
    hide_machine_cron(template)


def systemd(template: Path, ntp_units: tuple[str, ...]) -> None:
    """The systemctl and timedatectl stand-ins (the machine's own ``service`` defers to systemctl, as on
    Debian) and timedated's list of NTP units (only ours: the machine's list is hidden)."""
    standin(template, "systemctl", "usr/bin/systemctl")
    standin(template, "timedatectl", "usr/bin/timedatectl")
    (template / UNITS).mkdir(parents=True, exist_ok=True)
    (template / ENABLED).mkdir(parents=True, exist_ok=True)
    listed = template / NTP_UNITS_DIR
    listed.mkdir(parents=True, exist_ok=True)
    os.setxattr(listed, "trusted.overlay.opaque", b"y")
    for index, name in enumerate(ntp_units):
        (listed / f"{50 + 10 * index}-{name.removesuffix('.service')}.list").write_text(f"{name}\n")


def unit(template: Path, name: str, text: str, enabled: bool) -> None:
    (template / UNITS / name).write_text(text)
    if enabled:
        (template / ENABLED / name).write_text("")


def site_unit(template: Path, name: str) -> None:
    unit(
        template,
        name,
        "[Unit]\nDescription=The lab website (httpd stand-in)\n\n[Service]\nType=forking\n"
        "PIDFile=/run/httpd.pid\nExecStart=/usr/sbin/httpd /run/httpd.pid\n\n"
        "[Install]\nWantedBy=multi-user.target\n",
        enabled=True,
    )


def chrony(template: Path, conf: str, ntp_server: str) -> None:
    """The real chronyd (behind the -x/-q wrapper), the chronyc stand-in and ``conf`` (shipped defaults)."""
    install(MACHINE_CHRONYD, template / LAB_LIB / "chronyd.real")
    standin(template, "chronyd", "usr/sbin/chronyd")
    standin(template, "chronyc", "usr/bin/chronyc")
    (template / conf).parent.mkdir(parents=True, exist_ok=True)
    (template / conf).write_text(
        "# lab: the lab's NTP server is the only source\n"
        f"server {ntp_server} iburst\n"
        "driftfile /var/lib/chrony/drift\n"
        "# step the clock in the first three updates if it is off by more than 1 s (the shipped default)\n"
        "makestep 1 3\n"
        "rtcsync\n"
    )
    for folder in ("var/lib/chrony", "var/log/chrony"):
        (template / folder).mkdir(parents=True, exist_ok=True)


def ntpsec(template: Path, cache: Path, conf: str, ntp_server: str) -> None:
    """The real ntpsec ntpd and ntpq (unpacked from Debian's package) and an ntp.conf for one server."""
    root = ensure_ntpsec(cache)
    for relative in ("usr/sbin/ntpd", "usr/bin/ntpq"):
        install(root / relative, template / relative)
    (template / conf).parent.mkdir(parents=True, exist_ok=True)
    (template / conf).write_text(
        "# lab: the lab's NTP server is the only source\n"
        "driftfile /var/lib/ntpsec/ntp.drift\n"
        f"server {ntp_server} iburst\n"
        "# one server: let ntpd select it (Debian ships minclock 4 minsane 3)\n"
        "tos minclock 1 minsane 1\n"
        "restrict default kod nomodify nopeer noquery limited\n"
        "restrict 127.0.0.1\n"
    )
    (template / "var/lib/ntpsec").mkdir(parents=True, exist_ok=True)


def backup_seeds(now: float) -> Mapping[str, str]:
    """The nightly backup, scheduled inside the maintenance window (~3 h before now, real time), that
    did not run: its evidence still says the previous night's run, ~27 h ago."""
    scheduled = now - SCHEDULED_BEFORE_NOW
    at = time.localtime(scheduled)
    previous = int(scheduled - 86400 + BACKUP_RUNTIME)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(previous))
    return {
        "etc/cron.d/backup": f"# nightly backup\n{at.tm_min} {at.tm_hour} * * * root {BACKUP.command}\n",
        "var/lib/backup/last-success": f"{previous}\n",
        "var/log/backup.log": f"{stamp} backup.sh[2417]: backup finished OK\n",
    }


def seeds(scenario: Scenario, now: float) -> Mapping[str, str]:
    """The backup's state and the RTC, which kept the time the host booted with (its clock's offset)."""
    return {**backup_seeds(now), "var/lib/runbook-lab/rtc": f"{scenario.offset:+f}\n"}


def common_start(scenario: Scenario) -> list[str]:
    """Shell for the knobs every new profile treats alike: the one-shot tools and the RTC."""
    lines = [] if scenario.ntpdate else [f"rm -f {' '.join(ONE_SHOT_TOOLS)}"]
    if not scenario.rtc:
        lines.append("touch /etc/runbook-lab/no-rtc")
    return lines


def systemd_start(scenario: Scenario, daemon_unit: str, pidfile: str) -> list[str]:
    """Shell bringing a systemd-style host to ``scenario``: /run/systemd/system, daemon, site."""
    lines = ["mkdir -p /run/systemd/system", *common_start(scenario)]
    if scenario.daemon == "running":
        lines.append(f"systemctl start {daemon_unit}")
    elif scenario.daemon == "crashed":
        lines.append(f"mkdir -p {Path(pidfile).parent} && echo {STALE_PID} >{pidfile}")
    if scenario.site == "up":
        # what `systemctl start SITE` does, without a Python start-up per host at boot
        lines.append("/usr/sbin/httpd /run/httpd.pid")
    return lines


def remove_unless(wanted: bool, paths: tuple[str, ...]) -> list[str]:
    """Shell removing ``paths`` (a package the scenario does not install) unless ``wanted``."""
    return [] if wanted else [f"rm -f {' '.join(paths)}"]
