"""VM disk images: Debian installed by debootstrap from the Debian registry, cached by recipe digest.

A *base* is one ``debootstrap --variant=minbase`` tree per suite (the bookworm one is shared by the
three Debian 12 images); an *image* is a base plus its daemon's packages (``apt-get install`` in a
chroot), the lab's boot hook and backup files, turned into a raw ext4 disk with ``mkfs.ext4 -d``
(no loop mount). Each image has its own SSH host key, pinned into it and kept beside it for
known_hosts. Nothing here runs a daemon: package scripts meet a policy-rc.d that refuses, and every
command in the chroot lacks CAP_SYS_TIME.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lab.errors import LabError
from lab.layout import FILES_DIR
from lab.ntpserver import DROP_CLOCK

DEBIAN_MIRROR = "http://deb.debian.org/debian"
NTP_PLACEHOLDER = "LAB-NTP-SERVER"
DISK_SIZE = "2G"
GUEST_FILES = FILES_DIR / "vm"
SITE_FILES = FILES_DIR / "site"
RECIPE_SOURCES = tuple(Path(__file__).resolve().parent / name for name in ("images.py", "profiles.py"))
HOST_KEY = "ssh_host_ed25519_key"
POLICY_RC_D = "usr/sbin/policy-rc.d"


@dataclass(frozen=True)
class BaseRecipe:
    """One debootstrap run: ``suite`` with ``packages`` on top of minbase."""

    suite: str
    packages: tuple[str, ...]

    @property
    def digest(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ImageRecipe:
    """A bootable image: ``base`` + ``packages`` + ``customize(root)``; ``ntp_configs`` hold the
    placeholder the guest's boot hook replaces by the lab's NTP server; ``init`` is systemd or sysv."""

    name: str
    base: BaseRecipe
    packages: tuple[str, ...]
    init: str
    ntp_configs: tuple[str, ...]
    customize: Callable[[Path], None]


@dataclass(frozen=True)
class Image:
    disk: Path
    host_key: Path


def images_dir(cache: Path) -> Path:
    return cache / "vm"


def recipe_digest(recipe: ImageRecipe) -> str:
    """Digest of everything an image is made from: recipe, the code that builds it, guest and site files."""
    digest = hashlib.sha256(
        repr((recipe.name, recipe.base, recipe.packages, recipe.init, recipe.ntp_configs)).encode()
    )
    for source in RECIPE_SOURCES:
        digest.update(source.read_bytes())
    for folder in (GUEST_FILES, SITE_FILES):
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_image(recipe: ImageRecipe, cache: Path, log: Callable[[str], None] = print) -> Image:
    """The cached image of ``recipe``, built (with its base, if needed) when missing."""
    target = images_dir(cache) / f"{recipe.name}-{recipe_digest(recipe)}"
    image = Image(target / "disk.img", target / HOST_KEY)
    if target.is_dir():
        return image
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_dir():
            return image
        base = _ensure_base(recipe.base, cache, log)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as work:
            staged = Path(work, "image")
            staged.mkdir()
            _build_image(recipe, base, staged, log)
            staged.rename(target)
        _prune(target, recipe.name)
    return image


def _prune(kept: Path, name: str) -> None:
    """Remove the other (older) images of ``name``; a running VM keeps its open backing file."""
    for old in kept.parent.glob(f"{name}-*"):
        if old != kept and old.is_dir() and old.name[len(name) + 1 :].isalnum():
            shutil.rmtree(old, ignore_errors=True)


def _ensure_base(recipe: BaseRecipe, cache: Path, log: Callable[[str], None]) -> Path:
    """The debootstrap tree of ``recipe`` (called under the images lock)."""
    target = images_dir(cache) / f"base-{recipe.suite}-{recipe.digest}"
    if target.is_dir():
        return target
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".base-") as work:
        root = Path(work, "root")
        log(f"debootstrap {recipe.suite} from {DEBIAN_MIRROR} ...")
        done = _run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(recipe.packages)}",
                recipe.suite,
                str(root),
                DEBIAN_MIRROR,
            ]
        )
        if done.returncode != 0:
            raise LabError(
                f"debootstrap {recipe.suite} from {DEBIAN_MIRROR} failed, so the VM images of "
                f"{recipe.suite} cannot be built (the other profiles still work): {_tail(done.stdout)}"
            )
        root.rename(target)
    return target


def _build_image(recipe: ImageRecipe, base: Path, staged: Path, log: Callable[[str], None]) -> None:
    root = staged / "root"
    log(f"image {recipe.name}: copying the {recipe.base.suite} base ...")
    _check(_run(["cp", "-a", "--reflink=auto", str(base), str(root)]), f"copying {base}")
    policy = root / POLICY_RC_D
    policy.write_text("#!/bin/sh\n# runbook lab image build: no daemon starts\nexit 101\n")
    policy.chmod(0o755)
    (root / "etc/resolv.conf").unlink(missing_ok=True)
    shutil.copyfile("/etc/resolv.conf", root / "etc/resolv.conf")
    if recipe.packages:
        log(f"image {recipe.name}: apt-get install {' '.join(recipe.packages)} ...")
        chroot_run(
            root,
            "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
            "--no-install-recommends " + " ".join(recipe.packages),
        )
    _install_guest_files(root, recipe.init)
    recipe.customize(root)
    chroot_run(root, "apt-get clean && rm -rf /var/lib/apt/lists/*")
    policy.unlink()
    (root / "etc/resolv.conf").write_text("")
    _pin_host_key(root, staged / HOST_KEY)
    for conf in recipe.ntp_configs:
        if NTP_PLACEHOLDER not in (root / conf.lstrip("/")).read_text():
            raise LabError(f"image {recipe.name}: {conf} names no {NTP_PLACEHOLDER} (its recipe is wrong)")
    log(f"image {recipe.name}: mkfs.ext4 -d ...")
    _check(
        _run(["mkfs.ext4", "-q", "-F", "-L", "root", "-d", str(root), str(staged / "disk.img"), DISK_SIZE]),
        "mkfs.ext4",
    )
    shutil.rmtree(root)


def _install_guest_files(root: Path, init: str) -> None:
    """The boot hook (systemd unit or SysV script), fstab, the site and the backup job's programs."""
    _copy(GUEST_FILES / "usr/local/sbin/runbook-lab-seed", root, 0o755)
    if init == "systemd":
        _copy(GUEST_FILES / "etc/systemd/system/runbook-lab-seed.service", root, 0o644)
        wants = root / "etc/systemd/system/sysinit.target.wants"
        wants.mkdir(parents=True, exist_ok=True)
        (wants / "runbook-lab-seed.service").symlink_to("/etc/systemd/system/runbook-lab-seed.service")
        # no udev in a minbase image: the console's getty would wait for dev-ttyS0.device forever
        (root / "etc/systemd/system/serial-getty@ttyS0.service").symlink_to("/dev/null")
    else:
        _copy(GUEST_FILES / "etc/init.d/runbook-lab-seed", root, 0o755)
        chroot_run(root, "update-rc.d runbook-lab-seed defaults")
    for relative in ("usr/local/bin/backup.sh", "usr/local/bin/backup-check"):
        _copy(SITE_FILES / relative, root, 0o755, source_root=SITE_FILES)
    _copy(SITE_FILES / "var/www/html/index.html", root, 0o644, source_root=SITE_FILES)
    for folder in ("var/lib/backup", "var/backups/lab"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "etc/fstab").write_text("/dev/vda / ext4 rw,relatime 0 1\n")
    (root / "etc/hostname").write_text("lab\n")
    # one key type, the pinned one: sshd offers only what known_hosts holds
    for old in (root / "etc/ssh").glob("ssh_host_*"):
        old.unlink()
    (root / "etc/machine-id").write_text("")


def _copy(source: Path, root: Path, mode: int, source_root: Path = GUEST_FILES) -> None:
    target = root / source.relative_to(source_root)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(mode)


def _pin_host_key(root: Path, kept: Path) -> None:
    """A fresh ed25519 host key in the image's /etc/ssh and a copy beside the image (for known_hosts)."""
    done = _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "runbook-lab-vm", "-f", str(kept)])
    _check(done, "ssh-keygen")
    for suffix in ("", ".pub"):
        target = root / "etc/ssh" / (HOST_KEY + suffix)
        shutil.copyfile(kept.with_name(kept.name + suffix), target)
        target.chmod(0o600 if suffix == "" else 0o644)


def chroot_run(root: Path, command: str) -> None:
    """Run ``command`` in ``root`` with /proc and /dev mounted in a private mount namespace (so the
    mounts go with it), without CAP_SYS_TIME."""
    inner = (
        "exec unshare --mount --propagation private sh -c "
        '\'mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" && exec chroot "$1" /bin/sh -c "$2"\' '
        'sh "$0" "$1"'
    )
    done = _run([*DROP_CLOCK, "-c", inner, str(root), command])
    _check(done, f"in {root.name}: {command}")


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
    return subprocess.run(
        argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False, env=env
    )


def _check(done: subprocess.CompletedProcess[str], what: str) -> None:
    if done.returncode != 0:
        raise LabError(
            f"VM image build: {what} failed ({done.returncode}): {_tail(done.stdout + done.stderr)}"
        )


def _tail(text: str) -> str:
    return " | ".join(text.strip().splitlines()[-6:])
