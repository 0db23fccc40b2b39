"""The VM profiles: stock Debian guests whose time setup is the distribution's own.

- ``vm-ntp``: Debian 11 bullseye, SysV init (sysvinit-core), classic ntp 4.2.8 ``ntpd`` and classic
  ``ntpdate``; ntpd stopped and disabled at boot (``update-rc.d ntp disable``), as on the seed's host.
- ``vm-ntpsec``, ``vm-chrony``, ``vm-timesyncd``: Debian 12 bookworm with systemd and that daemon,
  enabled and running, in its stock configuration (timesyncd with dbus, as real servers have).

Each daemon's shipped ``pool`` lines become one ``server`` line naming the lab's NTP server (filled in
at boot). Every profile has the shared backup job of the namespace profiles and lighttpd as the site.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from lab.errors import LabError
from lab.profiles import parts
from lab.profiles.base import Profile
from lab.scenario import Scenario
from lab.vm.images import NTP_PLACEHOLDER, BaseRecipe, ImageRecipe, chroot_run

COMMON = ("openssh-server", "iproute2", "cron", "sudo", "procps", "lighttpd")
BOOKWORM = BaseRecipe("bookworm", ("systemd-sysv", "util-linux-extra", *COMMON))
BULLSEYE = BaseRecipe("bullseye", ("sysvinit-core", "ntp", "ntpdate", *COMMON))


def one_server(conf: str) -> str:
    """``conf`` with its first ``pool``/``server`` line replaced by one ``server`` line for the lab's
    NTP server (placeholder) and the other pool/server lines dropped; everything else as shipped."""
    lines = conf.splitlines()
    sources = [i for i, line in enumerate(lines) if re.match(r"^(pool|server) ", line)]
    if not sources:
        raise LabError("the shipped NTP configuration has no pool/server line to point at the lab")
    lines[sources[0]] = f"server {NTP_PLACEHOLDER} iburst"
    return "\n".join(line for i, line in enumerate(lines) if i not in sources[1:]) + "\n"


def _point_at_lab(root: Path, conf: str) -> None:
    path = root / conf.lstrip("/")
    path.write_text(one_server(path.read_text()))


def _ntp_classic(root: Path) -> None:
    _point_at_lab(root, "/etc/ntp.conf")
    chroot_run(root, "update-rc.d ntp disable")


def _chrony(root: Path) -> None:
    _point_at_lab(root, "/etc/chrony/chrony.conf")


def _ntpsec(root: Path) -> None:
    _point_at_lab(root, "/etc/ntpsec/ntp.conf")


def _timesyncd(root: Path) -> None:
    path = root / "etc/systemd/timesyncd.conf"
    text, count = re.subn(r"^#?NTP=.*$", f"NTP={NTP_PLACEHOLDER}", path.read_text(), flags=re.MULTILINE)
    if count != 1:
        raise LabError(f"{path}: expected one NTP= line, found {count}")
    path.write_text(text)


def seed_files(scenario: Scenario, now: float) -> Mapping[str, str]:
    """What a VM's seed disk lays over its / at boot: the missed nightly backup's state."""
    return parts.backup_seeds(now)


def _unused_start(scenario: Scenario) -> str:
    raise LabError("a VM profile has no namespace start script")


def _unused_populate(template: Path, cache: Path) -> None:
    raise LabError("a VM profile has no namespace template")


def _vm_profile(name: str, description: str, recipe: ImageRecipe, daemon: str) -> Profile:
    return Profile(
        name=name,
        description=description,
        file_trees=(),
        absent=(),
        scenario=Scenario(offset=-3 * 3600.0, daemon=daemon),
        backup=parts.BACKUP,
        populate=_unused_populate,
        seed_files=seed_files,
        start_script=_unused_start,
        vm=recipe,
    )


VM_NTP = _vm_profile(
    "vm-ntp",
    "VM, Debian 11, SysV init, classic ntp 4.2.8: clock 3 h behind, ntpd stopped and disabled, backup missed",
    ImageRecipe("bullseye-ntp", BULLSEYE, (), "sysv", ("/etc/ntp.conf",), _ntp_classic),
    "stopped",
)
VM_CHRONY = _vm_profile(
    "vm-chrony",
    "VM, Debian 12, systemd, chrony (stock, running)",
    ImageRecipe("bookworm-chrony", BOOKWORM, ("chrony",), "systemd", ("/etc/chrony/chrony.conf",), _chrony),
    "running",
)
VM_NTPSEC = _vm_profile(
    "vm-ntpsec",
    "VM, Debian 12, systemd, ntpsec (stock, running)",
    ImageRecipe(
        "bookworm-ntpsec",
        BOOKWORM,
        ("ntpsec", "ntpsec-ntpdate"),
        "systemd",
        ("/etc/ntpsec/ntp.conf",),
        _ntpsec,
    ),
    "running",
)
VM_TIMESYNCD = _vm_profile(
    "vm-timesyncd",
    "VM, Debian 12, systemd, systemd-timesyncd with dbus (stock, running)",
    ImageRecipe(
        "bookworm-timesyncd",
        BOOKWORM,
        ("systemd-timesyncd", "dbus"),
        "systemd",
        ("/etc/systemd/timesyncd.conf",),
        _timesyncd,
    ),
    "running",
)
VM_PROFILES = (VM_NTP, VM_NTPSEC, VM_CHRONY, VM_TIMESYNCD)
