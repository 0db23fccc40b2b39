"""Pure parsers of the snapshot's sections (``state.sh``): services, sockets, mounts, boot.

Every parser takes a section's text and never raises; what it cannot read it leaves out.
"""

from __future__ import annotations

import ipaddress
import re

from runbook.snapshot.model import FstabEntry, Mount, Service, Socket

_SS_ADDRESS = re.compile(r"^(.*):(\d+|\*)$")
_SS_PROGRAM = re.compile(r'users:\(\("([^"]+)"')
_SYSV_SKIP = frozenset({"functions", "halt", "killall", "netconsole", "rc", "rcS", "single", "reboot"})
PSEUDO_FS = frozenset(
    {
        "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts", "efivarfs",
        "fusectl", "hugetlbfs", "mqueue", "nsfs", "proc", "pstore", "rpc_pipefs", "securityfs", "sysfs",
        "tracefs", "selinuxfs", "fuse.gvfsd-fuse", "fuse.lxcfs", "squashfs", "overlay", "devtmpfs",
    }
)  # fmt: skip
"""File system types that are not disks or tmpfs an admin mounted (squashfs: snap packages)."""


BOOT_RUNLEVELS = frozenset({"sysinit", "boot", "default"})


def parse_systemd_units(text: str) -> dict[str, Service]:
    """``systemctl list-units --type=service --all --no-legend --plain``: active and failed units.

    Lines are ``UNIT LOAD ACTIVE SUB DESCRIPTION`` (a leading ``●`` marks a failed or not-found unit);
    a unit counts as running when ACTIVE is ``active`` (a oneshot that ran is ``active exited``).
    """
    services: dict[str, Service] = {}
    for line in text.splitlines():
        words = line.replace("\u25cf", " ").split()
        if len(words) < 4 or not words[0].endswith(".service") or words[1] == "not-found":
            continue
        name = words[0].removesuffix(".service")
        services[name] = Service(name, running=words[2] == "active", failed=words[2] == "failed")
    return services


def parse_unit_files(text: str) -> dict[str, bool]:
    """``systemctl list-unit-files --type=service --no-legend``: ``{name: enabled}`` (templates left out)."""
    enabled: dict[str, bool] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) < 2 or not words[0].endswith(".service") or "@." in words[0]:
            continue
        enabled[words[0].removesuffix(".service")] = words[1] in {"enabled", "enabled-runtime"}
    return enabled


def parse_chkconfig_list(text: str) -> dict[str, bool]:
    """``chkconfig --list``: ``{name: enabled}``, enabled when on in a multi-user runlevel (2-5)."""
    enabled: dict[str, bool] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) < 8 or not all(":" in word for word in words[1:8]):
            continue
        enabled[words[0]] = any(word in {"2:on", "3:on", "4:on", "5:on"} for word in words[1:8])
    return enabled


def parse_rc_links(text: str) -> dict[str, bool]:
    """``/etc/rcN.d/[SK]NNname`` paths: ``{name: enabled}``, enabled when it has a start link in a
    multi-user runlevel (2-5), as ``chkconfig --list`` would say."""
    enabled: dict[str, bool] = {}
    for line in text.splitlines():
        found = re.match(r"^/etc/rc([0-6])\.d/([SK])[0-9]{2}(.+)$", line.strip())
        if not found:
            continue
        level, kind, name = found.groups()
        enabled[name] = enabled.get(name, False) or (kind == "S" and level in "2345")
    return enabled


def parse_sysv_status(text: str) -> dict[str, tuple[bool, bool]]:
    """``NAME RC`` lines of init scripts' ``status``: ``{name: (running, failed)}``.

    LSB exit codes: 0 running, 1 dead with a pid file, 2 dead with a lock file (both: failed),
    3 stopped; anything else says nothing about the service.
    """
    states: dict[str, tuple[bool, bool]] = {}
    for line in text.splitlines():
        name, _, code = line.strip().rpartition(" ")
        if not name or name in _SYSV_SKIP or code not in {"0", "1", "2", "3"}:
            continue
        states[name] = (code == "0", code in {"1", "2"})
    return states


def parse_rc_status(text: str) -> dict[str, Service]:
    """``rc-status -a`` (OpenRC): services in the sysinit, boot and default runlevels are enabled,
    ``started`` ones running, ``crashed`` ones failed; ``shutdown`` and the ``Dynamic Runlevel``
    parts (hotplugged, needed, manual) are not enabled at boot."""
    services: dict[str, Service] = {}
    at_boot = False
    for line in text.splitlines():
        if line.startswith(("Runlevel:", "Dynamic Runlevel:")):
            at_boot = line.startswith("Runlevel:") and line.split(":", 1)[1].strip() in BOOT_RUNLEVELS
            continue
        found = re.match(r"^\s+(\S+)\s+\[\s*([a-z ]+?)\s*\]", line)
        if not found:
            continue
        name, state = found.group(1), found.group(2)
        earlier = services.get(name)
        services[name] = Service(
            name,
            running=state == "started",
            enabled=at_boot or bool(earlier and earlier.enabled),
            failed="crashed" in state,
        )
    return services


def parse_ss(text: str) -> list[Socket]:
    """``ss -tulnp``: listening TCP and UDP sockets (address, port, program when ss could see it).

    Works with and without the ``Netid`` column and header; UDP sockets are ``UNCONN``.
    """
    sockets: set[Socket] = set()
    for line in text.splitlines():
        words = line.split()
        if not words or words[0] not in {"tcp", "udp"} or len(words) < 6:
            continue
        found = _SS_ADDRESS.match(words[4])
        if not found or found.group(2) == "*":
            continue
        address = _address(found.group(1))
        program = _SS_PROGRAM.search(line)
        sockets.add(Socket(words[0], address, int(found.group(2)), program.group(1) if program else ""))
    return sorted(sockets, key=lambda s: (s.proto, s.port, s.address))


def _address(text: str) -> str:
    """An address as ``ipaddress`` writes it (``[::]``, ``::ffff:...``, ``*`` -> ``::``); else as given."""
    text = text.split("%", maxsplit=1)[0].strip("[]")
    if text == "*":
        return "::"
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return text


def parse_proc_net(text: str, proto: str, *, v6: bool) -> list[Socket]:
    """``/proc/net/tcp``-style tables: TCP sockets in LISTEN (``0A``) and unconnected UDP sockets
    (``07``), address and port. Addresses are hex words in the host's (little-endian) byte order."""
    wanted = "0A" if proto == "tcp" else "07"
    sockets = []
    for line in text.splitlines()[1:]:
        words = line.split()
        if len(words) < 4 or words[3] != wanted or ":" not in words[1]:
            continue
        hex_address, _, hex_port = words[1].partition(":")
        try:
            raw = b"".join(bytes.fromhex(hex_address[i : i + 8])[::-1] for i in range(0, len(hex_address), 8))
            address = ipaddress.ip_address(raw).compressed
            port = int(hex_port, 16)
        except ValueError:
            continue
        if (len(raw) == 16) == v6:
            sockets.append(Socket(proto, address, port))
    return sockets


def _unescape(field: str) -> str:
    """findmnt's ``\\x20`` and /proc/mounts' ``\\040`` escapes undone."""
    field = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), field)
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


NOT_ADMIN_MOUNTS = ("/proc", "/sys", "/dev/pts", "/run/user/", "/run/credentials/")
"""Targets that come and go with sessions and units, not with the admin: a logged-in user's
``/run/user/UID`` and systemd's per-unit credential mounts (``/run/credentials/UNIT``, ramfs or
tmpfs, there while the unit is active)."""


def _is_disk(target: str, fstype: str) -> bool:
    return fstype not in PSEUDO_FS and not target.startswith(NOT_ADMIN_MOUNTS)


def parse_findmnt(text: str) -> list[Mount]:
    """``findmnt -rn -b -o TARGET,SOURCE,FSTYPE,OPTIONS,SIZE,USED``: the mounts that are disks or tmpfs."""
    mounts: dict[str, Mount] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) < 4:
            continue
        target, source, fstype, options = (_unescape(word) for word in words[:4])
        if not _is_disk(target, fstype):
            continue
        size = int(words[4]) if len(words) > 4 and words[4].isdigit() else None
        used = int(words[5]) if len(words) > 5 and words[5].isdigit() else None
        mounts[target] = Mount(target, source, fstype, "ro" in options.split(","), size, used)
    return list(mounts.values())


def parse_proc_mounts(text: str, df: str = "") -> list[Mount]:
    """``/proc/mounts`` with sizes from ``df -P -k`` (1024-byte blocks, used in column 3)."""
    use: dict[str, tuple[int, int]] = {}
    for line in df.splitlines()[1:]:
        words = line.split()
        if len(words) >= 6 and words[1].isdigit() and words[2].isdigit():
            use[" ".join(words[5:])] = (int(words[1]) * 1024, int(words[2]) * 1024)
    mounts: dict[str, Mount] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) < 4:
            continue
        source, target, fstype, options = (_unescape(word) for word in words[:4])
        if not _is_disk(target, fstype):
            continue
        size, used = use.get(target, (None, None))
        mounts[target] = Mount(target, source, fstype, "ro" in options.split(","), size, used)
    return list(mounts.values())


def parse_fstab(text: str) -> list[FstabEntry]:
    """``/etc/fstab``: the entries mounted at boot (not swap, not ``noauto``)."""
    entries = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 3 or words[0].startswith("#"):
            continue
        options = words[3].split(",") if len(words) > 3 else []
        target = _unescape(words[1])
        if words[2] == "swap" or target in {"none", "swap"} or "noauto" in options:
            continue
        entries.append(FstabEntry(target, _unescape(words[0]), words[2]))
    return entries


def parse_number(text: str) -> float | None:
    """A section holding one number (``btime``), else ``None``."""
    try:
        return float(text.strip())
    except ValueError:
        return None
