"""What a run found and did: plain typed records, serialisable to JSON and back.

``CommandRecord`` is one remote (or local) command; ``StepResult`` is one step with its
outcome and the commands it ran; ``HostRun`` is one host's run; ``FleetRun`` collects
host runs. Results are truthy unless they failed, like ``invoke.runners.Result``.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, fields
from typing import Any

JSONValue = Any
_SCALARS = (str, int, float, bool, type(None))


@dataclass
class _Box:
    value: Any


def _copied(value: Any) -> Any:
    """``value`` copied as ``dataclasses.asdict`` copies a field, quickly for JSON-shaped data.

    ``asdict`` deep-copies through ``copy.deepcopy`` value by value; the journal and the
    records turn every step's data and output into dicts, so that was most of their cost.
    """
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {_copied(k): _copied(v) for k, v in value.items()}
    if kind is list:
        return [_copied(v) for v in value]
    return asdict(_Box(value))["value"]


def _fields_copied(obj: Any, **given: JSONValue) -> dict[str, JSONValue]:
    """``asdict(obj)`` for a dataclass of JSON-shaped fields, with the ``given`` values instead."""
    return {f.name: given[f.name] if f.name in given else _copied(getattr(obj, f.name)) for f in fields(obj)}


class Outcome(enum.StrEnum):
    """How a step ended. ``changed`` means it succeeded and did something."""

    OK = "ok"
    CHANGED = "changed"
    FAILED = "failed"
    SKIPPED = "skipped"


class Ended(enum.StrEnum):
    """How the engine saw a step end; only ``returned`` is a step speaking for itself."""

    RETURNED = "returned"  # the step returned a StepResult
    NOT_A_RESULT = "not a result"  # it returned something else (a plain Fabric task)
    RAISED = "raised"  # it raised an exception
    TIMED_OUT = "timed out"  # it was still running at the step timeout
    WORKER_DIED = "worker died"  # its thread ended without returning or raising an Exception
    NOT_RUN = "not run"  # the engine skipped it (policy, dry run)


@dataclass
class CommandRecord:
    """One command as it ran: what, where, how it ended and what it printed.

    ``exit_code`` is ``None`` when the command never finished (timeout, dropped
    connection); ``note`` then says why. ``round_trips`` counts the controller's waits
    on the host: 1 for a plain command, 1 + the clock samples for the probe's clock session.
    """

    command: str
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    started: float = 0.0
    duration: float = 0.0
    note: str = ""
    round_trips: int = 1

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def to_dict(self) -> dict[str, JSONValue]:
        return _fields_copied(self)

    @classmethod
    def from_dict(cls, data: dict[str, JSONValue]) -> CommandRecord:
        return cls(**data)


@dataclass
class StepResult:
    """One step's result: outcome, a one-line message, commands, timing and data.

    ``dry_run`` marks a result that only says what would have been done; its
    outcome is then ``changed`` when something would have changed. ``title`` is what a
    record calls the step; ``ended`` how the engine saw it end; ``kind`` the type of its
    ``data`` (``runbook.stepdata``), empty when the step declared none.
    """

    step: str
    outcome: Outcome
    message: str
    commands: list[CommandRecord] = field(default_factory=list)
    started: float = 0.0
    duration: float = 0.0
    data: dict[str, JSONValue] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    title: str = ""
    ended: Ended = Ended.RETURNED
    kind: str = ""

    def __post_init__(self) -> None:
        if not self.title:
            self.title = self.step.replace("_", " ").replace("-", " ").strip() or "step"

    def __bool__(self) -> bool:
        return self.outcome is not Outcome.FAILED

    @property
    def ok(self) -> bool:
        return bool(self)

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAILED

    @property
    def changed(self) -> bool:
        return self.outcome is Outcome.CHANGED

    def to_dict(self) -> dict[str, JSONValue]:
        return _fields_copied(
            self,
            outcome=self.outcome.value,
            ended=self.ended.value,
            commands=[c.to_dict() for c in self.commands],
        )

    @classmethod
    def from_dict(cls, data: dict[str, JSONValue]) -> StepResult:
        fields = dict(data)
        fields["outcome"] = Outcome(fields["outcome"])
        fields["ended"] = Ended(fields.get("ended", Ended.RETURNED.value))
        fields["commands"] = [CommandRecord.from_dict(c) for c in fields.get("commands", [])]
        return cls(**fields)

    def __repr__(self) -> str:
        return f"<StepResult {self.step}: {self.outcome.value} - {self.message}>"


@dataclass
class HostRun:
    """One host's run: its step results in order, and what stopped it if anything did.

    ``error`` holds a failure outside any step (unreachable, auth failure);
    ``interrupted`` marks a run cut short by the operator or a crash.
    """

    host: str
    results: list[StepResult] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    error: str | None = None
    interrupted: bool = False
    facts: dict[str, JSONValue] = field(default_factory=dict)
    connections: int = 0

    @property
    def outcome(self) -> Outcome:
        if self.error or self.interrupted or any(r.failed for r in self.results):
            return Outcome.FAILED
        if any(r.changed for r in self.results):
            return Outcome.CHANGED
        if self.results and all(r.outcome is Outcome.SKIPPED for r in self.results):
            return Outcome.SKIPPED
        return Outcome.OK

    def __bool__(self) -> bool:
        return self.outcome is not Outcome.FAILED

    @property
    def commands(self) -> list[CommandRecord]:
        return [cmd for result in self.results for cmd in result.commands]

    @property
    def round_trips(self) -> int:
        """Request/answer exchanges on the open connection (its handshake counts in ``connections``)."""
        return sum(cmd.round_trips for cmd in self.commands)

    def counts(self) -> dict[str, int]:
        """How many steps ended in each outcome, every outcome present."""
        tally = {outcome.value: 0 for outcome in Outcome}
        for result in self.results:
            tally[result.outcome.value] += 1
        return tally

    def result(self, step: str) -> StepResult | None:
        """The result of the named step, if it ran."""
        return next((r for r in self.results if r.step == step), None)

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "host": self.host,
            "outcome": self.outcome.value,
            "started": self.started,
            "finished": self.finished,
            "error": self.error,
            "interrupted": self.interrupted,
            "facts": self.facts,
            "connections": self.connections,
            "commands": len(self.commands),
            "round_trips": self.round_trips,
            "counts": self.counts(),
            "results": [r.to_dict() for r in self.results],
        }

    @classmethod
    def from_dict(cls, data: dict[str, JSONValue]) -> HostRun:
        return cls(
            host=data["host"],
            results=[StepResult.from_dict(r) for r in data.get("results", [])],
            started=data.get("started", 0.0),
            finished=data.get("finished", 0.0),
            error=data.get("error"),
            interrupted=data.get("interrupted", False),
            facts=data.get("facts", {}),
            connections=data.get("connections", 0),
        )

    def __repr__(self) -> str:
        return f"<HostRun {self.host}: {self.outcome.value}, {len(self.results)} steps>"


@dataclass
class FleetRun:
    """Several hosts' runs, in the order the hosts were given.

    ``stopped`` says why the fleet stopped starting new hosts (``--fail-fast``, too many failed).
    """

    runs: list[HostRun] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    stopped: str | None = None

    def __bool__(self) -> bool:
        return all(self.runs)

    @property
    def succeeded(self) -> list[HostRun]:
        return [run for run in self.runs if run]

    @property
    def failed(self) -> list[HostRun]:
        return [run for run in self.runs if not run]

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "started": self.started,
            "finished": self.finished,
            "stopped": self.stopped,
            "runs": [run.to_dict() for run in self.runs],
        }
