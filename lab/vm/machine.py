"""One VM lab host: its disks, its network inside the lab namespace, and QEMU (TCG) running it.

The host's network namespace (the same ``lab-labN`` as a namespace host, with its veth on the lab
bridge) holds a bridge ``br0`` joining that veth and the VM's tap, so the guest is one more station on
the lab bridge with the host's address, and nothing else: no user-mode networking, no route out.
QEMU runs in that namespace without CAP_SYS_TIME, so stopping the namespace stops the VM.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from lab import network
from lab.errors import LabError
from lab.network import Node
from lab.ntpserver import DROP_CLOCK
from lab.profiles import Profile
from lab.scenario import Scenario
from lab.vm.images import Image

MEMORY_MB = 512
SEED_DISK_SIZE = "8M"
KERNEL_ARGS = "root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet"
TAP = "tap0"
BRIDGE = "br0"


def qmp_socket(host_dir: Path) -> Path:
    return host_dir / "state" / "qmp.sock"


def console_log(host_dir: Path) -> Path:
    return host_dir / "state" / "console.log"


def guest_kernel() -> tuple[Path, Path]:
    """The newest Debian cloud kernel and its initrd in the controller's /boot (linux-image-cloud-amd64)."""
    kernels = sorted(glob.glob("/boot/vmlinuz-*-cloud-amd64"))
    if not kernels:
        raise LabError(
            "no Debian cloud kernel in /boot for the VM hosts: run `apt-get install linux-image-cloud-amd64` "
            "(lab/install-deps.sh does)"
        )
    kernel = Path(kernels[-1])
    initrd = kernel.with_name(kernel.name.replace("vmlinuz-", "initrd.img-"))
    if not initrd.is_file():
        raise LabError(f"{initrd} is missing: run `update-initramfs -c -k {kernel.name[len('vmlinuz-') :]}`")
    return kernel, initrd


def guest_mac(node: Node) -> str:
    return f"02:4c:{network.INSTANCE:02x}:4e:{node.index >> 8:02x}:{node.index & 0xFF:02x}"


def rtc_base(offset: float, now: float) -> str:
    """QEMU's ``-rtc base=`` (UTC) for a guest whose clock is ``offset`` seconds off the real one."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now + offset))


def seed_config(name: str, node: Node, ntp_configs: tuple[str, ...], authorized_key: str) -> str:
    """The seed disk's ``config`` (sourced by the guest's runbook-lab-seed): validated values only."""
    kind, blob = authorized_key.split()[:2]
    return (
        f"NAME={name}\nADDRESS={node.address}\nPREFIX={network.PREFIX_LENGTH}\n"
        f"NTP_SERVER={network.NTP_SERVER}\nNTP_CONFIGS='{' '.join(ntp_configs)}'\n"
        f"AUTHORIZED_KEY='{kind} {blob} runbook-lab'\n"
    )


def prepare_vm(
    host_dir: Path,
    node: Node,
    name: str,
    profile: Profile,
    scenario: Scenario,
    image: Image,
    authorized_key: str,
    now: float,
) -> None:
    """A fresh copy-on-write disk over the image, the seed disk, the pinned host key (host stopped)."""
    if profile.vm is None:
        raise LabError(f"profile {profile.name} is not a VM profile")
    shutil.rmtree(host_dir, ignore_errors=True)
    state = host_dir / "state"
    state.mkdir(parents=True)
    _run(
        [
            "qemu-img",
            "create",
            "-q",
            "-f",
            "qcow2",
            "-b",
            str(image.disk),
            "-F",
            "raw",
            str(state / "disk.qcow2"),
        ]
    )
    with tempfile.TemporaryDirectory(prefix="seed-", dir=state) as work:
        seed = Path(work)
        (seed / "config").write_text(seed_config(name, node, profile.vm.ntp_configs, authorized_key))
        for relative, text in profile.seed_files(scenario, now).items():
            target = seed / "files" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        _run(["mkfs.ext4", "-q", "-F", "-d", str(seed), str(state / "seed.img"), SEED_DISK_SIZE])
    for suffix in ("", ".pub"):
        shutil.copyfile(str(image.host_key) + suffix, state / f"ssh_host_ed25519_key{suffix}")
    (state / "ssh_host_ed25519_key").chmod(0o600)


def wire_vm_network(node: Node) -> None:
    """br0 in the host's namespace joining its veth (eth0) and a fresh tap for the VM; no address there."""
    script = (
        f"link delete {TAP}\nlink delete {BRIDGE}\n"  # left by an earlier VM of this host (ip -force goes on)
    )
    subprocess.run(
        ["ip", "-force", "-n", node.namespace, "-batch", "-"],
        input=script,
        text=True,
        capture_output=True,
        check=False,
    )
    script = (
        f"addr flush dev eth0\nlink set lo up\n"
        f"link add {BRIDGE} type bridge\n"
        f"tuntap add {TAP} mode tap\n"
        f"link set eth0 master {BRIDGE}\nlink set {TAP} master {BRIDGE}\n"
        f"link set eth0 up\nlink set {TAP} up\nlink set {BRIDGE} up\n"
    )
    done = subprocess.run(
        ["ip", "-n", node.namespace, "-batch", "-"], input=script, text=True, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise LabError(f"wiring the VM network in {node.namespace} failed: {done.stderr.strip()}")


def release_vm_network(node: Node) -> None:
    """Remove a VM's bridge and tap from a namespace that a namespace host takes over."""
    subprocess.run(
        ["ip", "-force", "-n", node.namespace, "-batch", "-"],
        input=f"link delete {TAP}\nlink delete {BRIDGE}\n",
        text=True,
        capture_output=True,
        check=False,
    )


def start_vm(host_dir: Path, node: Node, scenario: Scenario, now: float) -> subprocess.Popen[bytes]:
    """QEMU (TCG, 1 vCPU) in the host's namespace without CAP_SYS_TIME; the RTC starts ``offset`` off."""
    kernel, initrd = guest_kernel()
    state = host_dir / "state"
    argv = [
        "qemu-system-x86_64",
        "-accel",
        "tcg",
        "-m",
        str(MEMORY_MB),
        "-smp",
        "1",
        "-nodefaults",
        "-name",
        host_dir.name,
        "-display",
        "none",
        "-no-user-config",
        "-kernel",
        str(kernel),
        "-initrd",
        str(initrd),
        "-append",
        KERNEL_ARGS,
        "-drive",
        f"file={state / 'disk.qcow2'},if=virtio,format=qcow2",
        "-drive",
        f"file={state / 'seed.img'},if=virtio,format=raw,readonly=on",
        "-netdev",
        f"tap,id=n0,ifname={TAP},script=no,downscript=no",
        "-device",
        f"virtio-net-pci,netdev=n0,mac={guest_mac(node)}",
        "-rtc",
        f"base={rtc_base(scenario.offset, now)}",
        "-serial",
        f"file:{console_log(host_dir)}",
        "-qmp",
        f"unix:{qmp_socket(host_dir)},server=on,wait=off",
    ]
    with (host_dir / "host.log").open("wb") as log:
        return subprocess.Popen(
            ["ip", "netns", "exec", node.namespace, *DROP_CLOCK, "-c", 'exec "$0" "$@"', *argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LabError(f"{argv[0]} failed: {(done.stdout + done.stderr).strip()}")
