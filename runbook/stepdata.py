"""What steps record, as types: a step declares its data type (``@step(..., data=ClockCheck)``).

A step still records its data as a JSON-shaped dict (``StepResult.data``); its result also
carries the data type's ``kind``, so a record reads the data back as that type with
``read(result)`` and never looks steps up by name. A custom runbook's step gets the clock
rows of a record by declaring ``data=ClockCheck`` (before) or ``data=ClockVerify`` (after);
its own data type, a subclass of ``StepData`` with a new ``kind``, registers itself.

Reading is lenient: a missing or mistyped field (an older journal, a hand-edited record)
gets its default, never an error.
"""

from __future__ import annotations

import types
import typing
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar, TypeVar

from runbook.results import StepResult

KINDS: dict[str, type[StepData]] = {}
"""Every data type by its ``kind``, filled as subclasses are defined."""

D = TypeVar("D", bound="StepData")


@dataclass(frozen=True)
class StepData:
    """Base of the step data types; subclasses set ``kind`` and list their fields."""

    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("kind"):
            KINDS[cls.kind] = cls

    @classmethod
    def from_data(cls: type[D], data: dict[str, Any]) -> D:
        """The fields of ``cls`` read from ``data``; a missing or mistyped value gets the default."""
        hints = _hints(cls)
        values: dict[str, Any] = {}
        for item in fields(cls):
            value = data.get(item.name)
            if value is not None and _fits(value, hints[item.name]):
                values[item.name] = value
            elif item.default is not MISSING:
                values[item.name] = item.default
            elif item.default_factory is not MISSING:
                values[item.name] = item.default_factory()
        return cls(**values)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """``cls``'s field types, worked out once per class (``get_type_hints`` is slow)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _fits(value: object, hint: Any) -> bool:
    """Whether a JSON value fits a field's type (``float`` takes ints; ``bool`` is no number)."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for option in options:
        base = typing.get_origin(option) or option
        if base is float and isinstance(value, int | float) and not isinstance(value, bool):
            return True
        if base is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        if base in (str, bool, list, dict) and isinstance(value, base):
            return True
    return False


def read(result: StepResult) -> StepData | None:
    """``result``'s data as its declared type, or ``None`` when the step declared none."""
    kind = KINDS.get(result.kind)
    return None if kind is None else kind.from_data(result.data)


Typed = list[tuple[StepResult, "StepData | None"]]


def typed(results: list[StepResult]) -> Typed:
    """Each result with its data read as its type (``None``: untyped), to search by type."""
    return [(result, read(result)) for result in results]


def first(results: list[StepResult] | Typed, kind: type[D]) -> tuple[StepResult, D] | None:
    """The first result whose data is a ``kind``, with that data."""
    return next(iter(every(results, kind)), None)


def last(results: list[StepResult] | Typed, kind: type[D]) -> tuple[StepResult, D] | None:
    """The last result whose data is a ``kind``, with that data."""
    found = every(results, kind)
    return found[-1] if found else None


def every(results: list[StepResult] | Typed, kind: type[D]) -> list[tuple[StepResult, D]]:
    """Each result whose data is a ``kind`` (or a subclass), with that data, in order."""
    pairs = []
    for item in results:
        result, data = item if isinstance(item, tuple) else (item, read(item))
        if isinstance(data, kind):
            pairs.append((result, data))
    return pairs


@dataclass(frozen=True)
class ClockCheck(StepData):
    """The clock as found: offset (s, + = host behind), error bound, reference, sync state."""

    kind: ClassVar[str] = "clock_check"
    offset: float | None = None
    bound: float | None = None
    server: str | None = None
    stratum: int | None = None
    controller_offset: float | None = None
    synchronised: bool | None = None
    peer: str | None = None


@dataclass(frozen=True)
class ClockVerify(StepData):
    """The clock after the fix: offset, bound, whether the daemon synchronised and to which peer."""

    kind: ClassVar[str] = "clock_verify"
    offset: float | None = None
    bound: float | None = None
    synchronised: bool | None = None
    peer: str | None = None
    waited: float | None = None


@dataclass(frozen=True)
class DaemonRestart(StepData):
    """A restart of the time daemon: which, whether it was running, how stop and start went.

    ``no_panic_override``: where an ntpd's options were read that lack ``-g``;
    ``makestep_warning``: why chrony cannot recover from a suspend on its own.
    """

    kind: ClassVar[str] = "daemon_restart"
    daemon: str | None = None
    init: str | None = None
    was_running: bool | None = None
    stop: str | None = None
    start: str | None = None
    no_panic_override: str | None = None
    makestep_warning: str | None = None


@dataclass(frozen=True)
class ClockSync(StepData):
    """A one-shot sync: the tool, the server, how far the clock was stepped, the socket fallback."""

    kind: ClassVar[str] = "clock_sync"
    tool: str | None = None
    server: str | None = None
    stepped: float | None = None
    method: str | None = None
    fallback: bool = False


@dataclass(frozen=True)
class DaemonBoot(StepData):
    """The daemon started and enabled at boot: the state found and the state left."""

    kind: ClassVar[str] = "daemon_boot"
    daemon: str | None = None
    was_running: bool | None = None
    was_enabled: bool | None = None
    running: bool | None = None
    enabled: bool | None = None


@dataclass(frozen=True)
class RtcWrite(StepData):
    """The hardware clock written (``rtc`` False: the host has none)."""

    kind: ClassVar[str] = "rtc_write"
    rtc: bool | None = None
    offset: float | None = None


@dataclass(frozen=True)
class BackupRerun(StepData):
    """The backup judged by its evidence, and rerun when it was missed."""

    kind: ClassVar[str] = "backup_rerun"
    last_success: float | None = None
    age: float | None = None
    max_age: float | None = None
    rerun: bool = False
    exit_code: int | None = None
    duration: float | None = None
    check_rc: int | None = None
    command: str | None = None


@dataclass(frozen=True)
class MissedJobs(StepData):
    """Cron jobs due in the window (each a dict: ``id``, ``user``, ``schedule``, ``command``, ``runs``,
    ``selected``, ``rerun``), the window and the host's zone."""

    kind: ClassVar[str] = "missed_jobs"
    window: dict[str, Any] | None = None
    zone: str | None = None
    missed: list[Any] | None = None
    anacron: list[Any] | None = None
    problems: list[Any] | None = None


@dataclass(frozen=True)
class SiteAnswers(StepData):
    """The site's URLs as the controller saw them (each: ``url``, ``status``, ``latency``, ``error``)."""

    kind: ClassVar[str] = "site_answers"
    checks: list[Any] | None = None


@dataclass(frozen=True)
class SinceBefore(StepData):
    """The comparison with the snapshot from before the maintenance: the snapshot's file and time,
    what differs now (``findings``), what differed before ``--restore`` acted (``found``, only when
    it started something) and what it did (``restores``: ``service``, ``action``)."""

    kind: ClassVar[str] = "since_before"
    snapshot: str | None = None
    taken_utc: str | None = None
    findings: list[Any] | None = None
    found: list[Any] | None = None
    restores: list[Any] | None = None
    init: str | None = None
