"""The read-only template layer of a profile: built once per content, cached, shared by all its hosts.

A host's /etc, /usr and /var are overlays: its own upper dir, over ``TEMPLATE/{etc,usr,var}``, over the
machine's own directories. The template holds the profile's files, the fake-clock wiring, the lab users
and whiteouts for what the distribution lacks. Its init script folders (/etc/init.d, /etc/rcN.d) are
opaque: a host has its profile's init scripts and rc links only, never the machine's (dbus, exim4, ...).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from lab import network
from lab.errors import LabError
from lab.faketime import ensure_libfaketime
from lab.layout import FILES_DIR, PACKAGE_DIR, STANDINS_DIR
from lab.profiles import Profile

TOP_DIRS = ("etc", "usr", "var")
FAKETIME_IN_HOST = "usr/lib/runbook-lab/libfaketime.so.1"
CLOCK_FILE_IN_HOST = "/run/lab/clock.rc"
SUDO_USER = "admin"
SUDO_UID = 1500
ACCOUNT_FILES = ("etc/passwd", "etc/shadow", "etc/group", "etc/gshadow")
INIT_DIRS = ("etc/init.d", *(f"etc/rc{level}.d" for level in "0123456S"))
"""The SysV init folders a host sees only from its template (opaque over the machine's)."""


def sudo_password(cache: Path) -> str:
    """The lab sudo user's password: made once per cache, so cached templates stay valid."""
    secret = cache / "sudo_password"
    if not secret.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        staged = secret.with_name(f".sudo_password.{os.getpid()}")
        staged.write_text(secrets.token_urlsafe(12) + "\n")
        staged.chmod(0o600)
        staged.replace(secret)
    return secret.read_text().strip()


def ensure_template(profile: Profile, cache: Path) -> Path:
    """Folder with the ``etc``, ``usr`` and ``var`` layers of ``profile``, rebuilt when its inputs change."""
    library = ensure_libfaketime(cache)
    password = sudo_password(cache)
    key = _inputs_digest(profile, library, password)
    template = cache / "templates" / f"{profile.name}-{key}"
    if template.is_dir():
        return template
    template.parent.mkdir(parents=True, exist_ok=True)
    with (template.parent / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.is_dir():
            with tempfile.TemporaryDirectory(dir=template.parent, prefix=".build-") as work:
                staged = Path(work, "template")
                _build(profile, cache, library, password, staged)
                staged.rename(template)
    return template


def _inputs_digest(profile: Profile, library: Path, password: str) -> str:
    # the NTP server's address is written into config files: each lab instance has its own
    digest = hashlib.sha256(profile.name.encode() + password.encode() + network.NTP_SERVER.encode())
    sources = [library, *(Path("/", name) for name in ACCOUNT_FILES)]
    sources += sorted(PACKAGE_DIR.glob("*.py")) + sorted((PACKAGE_DIR / "profiles").glob("*.py"))
    for tree in profile.file_trees:
        sources += sorted(path for path in (FILES_DIR / tree).rglob("*") if path.is_file())
    sources += sorted(path for path in STANDINS_DIR.glob("*") if path.is_file())
    for source in sources:
        digest.update(str(source).encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:12]


def _build(profile: Profile, cache: Path, library: Path, password: str, template: Path) -> None:
    for top in TOP_DIRS:
        (template / top).mkdir(parents=True)
    for tree in profile.file_trees:
        _copy_tree(FILES_DIR / tree, template)
    _install_fake_clock(template, library)
    _add_sudo_user(template, password)
    profile.populate(template, cache)
    _own_init_scripts(template)
    for relative in profile.absent:
        _whiteout(template / relative)


def _own_init_scripts(template: Path) -> None:
    """Make the init script folders opaque (overlayfs): the machine's scripts and rc links stay hidden."""
    for relative in INIT_DIRS:
        folder = template / relative
        folder.mkdir(parents=True, exist_ok=True)
        os.setxattr(folder, "trusted.overlay.opaque", b"y")


def _copy_tree(source: Path, template: Path) -> None:
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        target = template / relative
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        target.chmod(_mode_for(relative))


def _mode_for(relative: Path) -> int:
    parts = relative.parts
    if parts[:2] == ("etc", "sudoers.d"):
        return 0o440
    if "bin" in parts or "sbin" in parts or parts[:2] == ("etc", "init.d"):
        return 0o755
    return 0o644


def _install_fake_clock(template: Path, library: Path) -> None:
    target = template / FAKETIME_IN_HOST
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(library, target)
    target.chmod(0o755)
    (template / "etc/ld.so.preload").write_text(f"/{FAKETIME_IN_HOST}\n")
    (template / "etc/faketimerc").symlink_to(CLOCK_FILE_IN_HOST)


def _add_sudo_user(template: Path, password: str) -> None:
    hashed = subprocess.run(
        ["openssl", "passwd", "-6", "-stdin"], input=password, capture_output=True, text=True, check=True
    ).stdout.strip()
    lines = {
        "etc/passwd": f"{SUDO_USER}:x:{SUDO_UID}:{SUDO_UID}:Lab admin:/home/{SUDO_USER}:/bin/bash",
        "etc/shadow": f"{SUDO_USER}:{hashed}:19000:0:99999:7:::",
        "etc/group": f"{SUDO_USER}:x:{SUDO_UID}:",
        "etc/gshadow": f"{SUDO_USER}:!::",
    }
    for relative, line in lines.items():
        machine = Path("/", relative)
        kept = [entry for entry in machine.read_text().splitlines() if not entry.startswith(f"{SUDO_USER}:")]
        target = template / relative
        target.write_text("\n".join([*kept, line]) + "\n")
        target.chmod(stat.S_IMODE(machine.stat().st_mode))
        os.chown(target, machine.stat().st_uid, machine.stat().st_gid)


def _whiteout(path: Path) -> None:
    """Hide a machine path from the hosts (an overlayfs whiteout: a 0/0 character device)."""
    if path.exists() or path.is_symlink():
        raise LabError(f"template path {path} is both provided and declared absent")
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mknod(path, stat.S_IFCHR | 0o000, os.makedev(0, 0))
