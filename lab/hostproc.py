"""Preparing, starting and waiting for one lab host's namespaces and sshd."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lab.errors import LabError
from lab.faketime import write_clock_offset
from lab.layout import FILES_DIR
from lab.network import Node
from lab.ntpserver import DROP_CLOCK
from lab.profiles import Profile
from lab.scenario import Scenario
from lab.template import TOP_DIRS

HOST_KEY = "ssh_host_ed25519_key"
INIT_SCRIPT = FILES_DIR / "host-init.sh"
MACHINE_PROC_STAT = Path("/proc/stat")


def host_key(host_dir: Path) -> Path:
    return host_dir / "state" / HOST_KEY


def clock_file(host_dir: Path) -> Path:
    return host_dir / "state" / "clock.rc"


def proc_stat_file(host_dir: Path) -> Path:
    """The host's own /proc/stat (host-init.sh binds it read-only over the host's /proc/stat)."""
    return host_dir / "state" / "proc-stat"


def boot_id_file(host_dir: Path) -> Path:
    """The host's boot id (host-init.sh binds it read-only over /proc/sys/kernel/random/boot_id)."""
    return host_dir / "state" / "boot-id"


def write_boot_id(target: Path) -> str:
    """A new random boot id for the host, as a kernel makes one at each boot; returns it."""
    boot_id = str(uuid.uuid4())
    staged = target.with_name(target.name + ".new")
    staged.write_text(boot_id + "\n")
    staged.chmod(0o444)
    staged.replace(target)
    return boot_id


def host_proc_stat(machine: str, btime: int) -> str:
    """``machine``'s /proc/stat text with its ``btime`` line set to ``btime`` (added if it has none)."""
    lines = machine.splitlines()
    found = [index for index, line in enumerate(lines) if line.split()[:1] == ["btime"]]
    if found:
        lines[found[0]] = f"btime {btime}"
    else:
        lines.append(f"btime {btime}")
    return "\n".join(lines) + "\n"


def write_proc_stat(target: Path, uptime: float, offset: float, source: Path = MACHINE_PROC_STAT) -> int:
    """Write the host's /proc/stat: the machine's, read now, with btime = the host's clock now - ``uptime``.

    The host's clock is the real one plus ``offset`` (its scenario's), so a host whose clock is behind has
    its boot time behind by as much, as a real kernel's btime (derived from the wall clock) would.
    Returns the btime written.
    """
    btime = int(time.time() + offset - uptime)
    if btime < 0:
        raise LabError(
            f"scenario uptime={uptime:g} s puts the boot before 1970 on the host's clock "
            f"(offset {offset:+g} s): use a shorter uptime"
        )
    staged = target.with_name(target.name + ".new")
    staged.write_text(host_proc_stat(source.read_text(), btime))
    staged.chmod(0o444)
    staged.replace(target)
    return btime


def session_locale(lang: str) -> str:
    """start.sh lines giving every SSH session ``LANG=lang`` (sshd's SetEnv); none for the C locale."""
    if not lang:
        return ""
    return f"sed -i 's/^SetEnv /SetEnv LANG={lang} /' /etc/ssh/sshd_config\n"


def sudo_requiretty(requiretty: bool) -> str:
    """start.sh lines adding sudoers' ``Defaults requiretty`` (CentOS 6.0-6.7's default); none without it."""
    if not requiretty:
        return ""
    rule = "/etc/sudoers.d/zz-requiretty"
    return f"echo 'Defaults requiretty' >{rule} && chmod 440 {rule}\n"


def prepare_host(
    host_dir: Path,
    node: Node,
    name: str,
    profile: Profile,
    scenario: Scenario,
    authorized_keys: str,
    now: float,
) -> None:
    """Fresh writable layers, the fake clock and the seeded state of ``scenario`` (host must be stopped)."""
    state = host_dir / "state"
    state.mkdir(parents=True, exist_ok=True)
    for folder in ("upper", "work", "root"):
        shutil.rmtree(host_dir / folder, ignore_errors=True)
    for top in TOP_DIRS:
        (host_dir / "upper" / top).mkdir(parents=True)
        (host_dir / "work" / top).mkdir(parents=True)
    (host_dir / "root").mkdir(mode=0o700)
    write_clock_offset(clock_file(host_dir), scenario.offset)
    write_proc_stat(proc_stat_file(host_dir), scenario.uptime, scenario.offset)
    write_boot_id(boot_id_file(host_dir))
    (state / "authorized_keys").write_text(authorized_keys)
    (state / "start.sh").write_text(
        profile.start_script(scenario) + session_locale(scenario.lang) + sudo_requiretty(scenario.requiretty)
    )
    seeds = {
        "etc/hostname": f"{name}\n",
        "etc/hosts": f"127.0.0.1\tlocalhost\n{node.address}\t{name}\n",
        **profile.seed_files(scenario, now),
    }
    for relative, text in seeds.items():
        target = host_dir / "upper" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def start_host(host_dir: Path, node: Node, name: str, template: Path) -> subprocess.Popen[bytes]:
    """Launch the host's PID namespace (host-init.sh) in its network namespace, without CAP_SYS_TIME."""
    inner = (
        "exec unshare --mount --uts --pid --fork --kill-child --mount-proc "
        f"sh {INIT_SCRIPT} {host_dir} {template} {name}"
    )
    with (host_dir / "host.log").open("wb") as log:
        return subprocess.Popen(
            ["ip", "netns", "exec", node.namespace, *DROP_CLOCK, "-c", inner],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def ssh_banner(address: str, timeout: float = 0.5) -> bool:
    """True when an SSH server greets on ``address``:22."""
    try:
        with socket.create_connection((address, 22), timeout=timeout) as connection:
            return connection.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def wait_for_banners(hosts: dict[str, tuple[str, subprocess.Popen[bytes], Path]], timeout: float) -> None:
    """Wait until every host's sshd greets; a host whose launcher exits fails at once, with its log."""

    def wait_one(item: tuple[str, tuple[str, subprocess.Popen[bytes], Path]]) -> None:
        name, (address, process, log) = item
        deadline = time.monotonic() + timeout
        while not ssh_banner(address):
            if process.poll() is not None:
                raise LabError(f"lab host {name} exited ({process.returncode}): {_tail(log)}")
            if time.monotonic() > deadline:
                raise LabError(
                    f"lab host {name} ({address}) did not answer SSH within {timeout:g} s: {_tail(log)}"
                )
            time.sleep(0.01)

    with ThreadPoolExecutor(max_workers=min(32, max(1, len(hosts)))) as pool:
        list(pool.map(wait_one, hosts.items()))


def _tail(log: Path) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-5:])
    except OSError:
        return "(no log)"
