"""Running commands for a step and recording each one, and the ``@step`` decorator.

Every command a step runs goes through ``StepRecorder.run``: it is prefixed with
``LC_ALL=C`` when its output is parsed, run with ``warn=True`` and hidden output,
timed, and appended to the step's command list whatever happens. ``@step`` turns a
function ``body(c, rec, **options)`` into a Fabric task ``(c, **options) -> StepResult``
that never raises: an unexpected exception becomes a failed result that keeps the
commands run so far.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

from fabric import task
from invoke.context import Context
from invoke.exceptions import CommandTimedOut, Failure

from runbook.results import CommandRecord, Outcome, StepResult

P = ParamSpec("P")


class StepRecorder:
    """Collects one step's commands, data and warnings, then builds its result."""

    def __init__(self, name: str, *, dry_run: bool = False) -> None:
        self.name = name
        self.dry_run = dry_run
        self.commands: list[CommandRecord] = []
        self.data: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.started = time.time()
        self._clock = time.monotonic()

    def run(
        self,
        c: Context,
        command: str,
        *,
        timeout: float | None = None,
        parse: bool = True,
        sudo_password: str | None = None,
    ) -> CommandRecord:
        """Run ``command`` on ``c`` (via sudo when a password is given and the user is not root).

        Root needs no sudo, and sudo's ``env_reset`` would drop the session's environment.

        Connection errors propagate (after the command is recorded as unfinished):
        the step fails and the engine decides what happens to the host's run.
        """
        wire = f"LC_ALL=C {command}" if parse else command
        started = time.time()
        clock = time.monotonic()
        record = CommandRecord(command=wire, exit_code=None, started=started)
        self.commands.append(record)
        options: dict[str, Any] = {"hide": True, "warn": True, "in_stream": False}
        if timeout is not None:
            options["timeout"] = timeout
        try:
            if sudo_password is not None and getattr(c, "user", None) != "root":
                result = c.sudo(wire, password=sudo_password, pty=False, **options)
            else:
                result = c.run(wire, **options)
        except CommandTimedOut as exc:
            if exc.result is not None:
                record.stdout, record.stderr = exc.result.stdout, exc.result.stderr
            record.note = f"timed out after {exc.timeout:g} s"
        except Failure as exc:
            if exc.result is not None:
                record.exit_code = exc.result.exited
                record.stdout, record.stderr = exc.result.stdout, exc.result.stderr
            record.note = str(exc.reason or type(exc).__name__)
        except BaseException as exc:
            record.note = f"did not finish: {type(exc).__name__}: {exc}"
            raise
        else:
            if result is not None:
                record.exit_code = result.exited
                record.stdout, record.stderr = result.stdout, result.stderr
        finally:
            record.duration = time.monotonic() - clock
        return record

    def finish(self, outcome: Outcome, message: str, **data: Any) -> StepResult:
        """The step's result, with everything recorded so far."""
        self.data.update(data)
        return StepResult(
            step=self.name,
            outcome=outcome,
            message=message,
            commands=self.commands,
            started=self.started,
            duration=time.monotonic() - self._clock,
            data=self.data,
            warnings=self.warnings,
            dry_run=self.dry_run,
        )


StepBody = Callable[Concatenate[Context, StepRecorder, P], StepResult]
StepTask = Callable[Concatenate[Context, P], StepResult]


def step(name: str) -> Callable[[StepBody[P]], StepTask[P]]:
    """Make ``body(c, rec, **options)`` a Fabric task ``name(c, **options) -> StepResult``.

    The task never raises on a failure inside the step: the result is ``failed``, names
    the exception and keeps the commands that ran. KeyboardInterrupt still propagates.
    """

    def decorate(body: StepBody[P]) -> StepTask[P]:
        @functools.wraps(body)
        def wrapper(c: Context, *args: P.args, **kwargs: P.kwargs) -> StepResult:
            rec = StepRecorder(name, dry_run=bool(kwargs.get("dry_run", False)))
            try:
                return body(c, rec, *args, **kwargs)
            except Exception as exc:
                return rec.finish(Outcome.FAILED, f"{name} failed: {type(exc).__name__}: {exc}")

        signature = inspect.signature(body)
        params = list(signature.parameters.values())
        setattr(wrapper, "__signature__", signature.replace(parameters=[params[0], *params[2:]]))  # noqa: B010
        del wrapper.__wrapped__
        made: StepTask[P] = task(wrapper)
        return made

    return decorate
