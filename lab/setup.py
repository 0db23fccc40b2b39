"""Prerequisites of the lab on a Debian 12 machine, checked up front with a message saying what to run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lab.errors import LabError

INSTALL_SCRIPT = Path(__file__).resolve().parent / "install-deps.sh"
# command (or absolute path) -> Debian package providing it
REQUIRED = {
    "ip": "iproute2",
    "capsh": "libcap2-bin",
    "unshare": "util-linux",
    "sshd": "openssh-server",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "chronyd": "chrony",
    "service": "init-system-helpers",
    "sudo": "sudo",
    "openssl": "openssl",
    "gcc": "gcc",
    "make": "make",
    "apt-get": "apt",
    "dpkg-deb": "dpkg",
    "/usr/lib/python3/dist-packages/ntp": "python3-ntp",
    "/usr/sbin/ntpdate": "ntpsec-ntpdate",
    "/usr/bin/ntpdig": "ntpsec-ntpdig",
    "/usr/share/i18n/locales/ja_JP": "locales",
}


def missing_packages() -> list[str]:
    """Debian packages whose commands the lab needs but this machine lacks."""
    missing = {
        package
        for need, package in REQUIRED.items()
        if not (Path(need).exists() if need.startswith("/") else shutil.which(need, path=_sbin_path()))
    }
    return sorted(missing)


def _sbin_path() -> str:
    return os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])


def overlay_supported() -> bool:
    return "\toverlay\n" in Path("/proc/filesystems").read_text()


def check_prerequisites() -> None:
    """Raise LabError naming the fix when the lab cannot run here (not root, packages, kernel)."""
    if os.geteuid() != 0:
        raise LabError(
            "the lab needs root (namespaces, mounts, veths): run it as root, e.g. `sudo invoke lab.up`"
        )
    missing = missing_packages()
    if missing:
        raise LabError(
            f"the lab needs packages that are missing: {' '.join(missing)}; run `sh {INSTALL_SCRIPT}` "
            f"(or `apt-get install {' '.join(missing)}`)"
        )
    if not overlay_supported():
        raise LabError("the kernel has no overlayfs: run `modprobe overlay`")
