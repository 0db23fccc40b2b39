"""What a host looked like, for comparing it with itself across a maintenance: ``HostState``.

Plain frozen dataclasses with ``to_dict``/``from_dict`` (the snapshot file's ``state``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Service:
    """A service: running now, enabled at boot (``None``: unknown), failed (crashed, dead with a pid file)."""

    name: str
    running: bool = False
    enabled: bool | None = None
    failed: bool = False


@dataclass(frozen=True)
class Socket:
    """A listening socket: ``tcp``/``udp``, local address, port, program (``""`` when not seen)."""

    proto: str
    address: str
    port: int
    program: str = ""

    @property
    def label(self) -> str:
        shown = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.proto} {shown}:{self.port}" + (f" ({self.program})" if self.program else "")


@dataclass(frozen=True)
class Mount:
    """A mounted file system: where, what, type, read-only, size and bytes used (``None``: unknown)."""

    target: str
    source: str
    fstype: str
    readonly: bool
    size: int | None = None
    used: int | None = None

    @property
    def use_percent(self) -> float | None:
        if not self.size or self.used is None:
            return None
        return 100.0 * self.used / self.size


@dataclass(frozen=True)
class FstabEntry:
    """An ``/etc/fstab`` line that is mounted at boot."""

    target: str
    source: str
    fstype: str


@dataclass(frozen=True)
class Output:
    """An operator command's output and exit code."""

    text: str
    rc: int | None


@dataclass(frozen=True)
class CronJob:
    """A scheduled cron or anacron entry: its schedule (or anacron period), user, command, file."""

    schedule: str
    user: str
    command: str
    source: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes it the same job across a maintenance (its line number may move)."""
        return (self.schedule, self.user, self.command)

    @property
    def label(self) -> str:
        return f"{self.schedule} {self.command} ({self.user})"


@dataclass(frozen=True)
class HostState:
    """The host's state beyond the clock: kernel and boot, services, sockets, mounts, fstab,
    the operator's commands' outputs (in ``before_after.commands`` order)."""

    init: str = "unknown"
    kernel: str | None = None
    boot_id: str | None = None
    boot_time: float | None = None
    services: Mapping[str, Service] = field(default_factory=dict)
    sockets: tuple[Socket, ...] = ()
    mounts: tuple[Mount, ...] = ()
    fstab: tuple[FstabEntry, ...] = ()
    outputs: tuple[Output, ...] = ()

    def mount(self, target: str) -> Mount | None:
        return next((m for m in self.mounts if m.target == target), None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["services"] = {name: asdict(service) for name, service in sorted(self.services.items())}
        for name in ("sockets", "mounts", "fstab", "outputs"):
            data[name] = list(data[name])  # JSON's shape: the records' Redactor walks lists, not tuples
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HostState:
        """The state from ``to_dict``'s shape; ``KeyError``/``TypeError``/``ValueError`` when it is not."""
        return cls(
            init=str(data["init"]),
            kernel=data.get("kernel"),
            boot_id=data.get("boot_id"),
            boot_time=data.get("boot_time"),
            services={str(name): Service(**value) for name, value in dict(data["services"]).items()},
            sockets=tuple(Socket(**value) for value in data["sockets"]),
            mounts=tuple(Mount(**value) for value in data["mounts"]),
            fstab=tuple(FstabEntry(**value) for value in data["fstab"]),
            outputs=tuple(Output(**value) for value in data.get("outputs", ())),
        )
