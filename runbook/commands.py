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
import math
import shlex
import time
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

from fabric import Connection, task
from invoke.context import Context
from invoke.exceptions import AuthFailure, CommandTimedOut, Exit, Failure

from runbook.errors import HostUnavailable, SudoRefused
from runbook.results import CommandRecord, Outcome, StepResult
from runbook.session import has_session, session_of

P = ParamSpec("P")

KILL_AFTER = 5
"""Seconds between the host's TERM and KILL to a command that ran out of time."""
CHANNEL_GRACE = 10.0
"""How much longer than the host's own limit the controller waits before closing the channel."""
_ENDED_BY_TIMEOUT = {124, 137}


def host_timeout(command: str, seconds: float) -> str:
    """``command`` ended on the host after ``seconds``: ``timeout -k`` where the host has one.

    Closing an SSH channel does not stop the remote process; coreutils/BusyBox ``timeout``
    signals its whole process group. A host without a working ``timeout -k`` runs the
    command as is (only the channel is closed when it runs out of time).
    """
    limit = max(1, math.ceil(seconds))
    script = (
        "if timeout -k 1 5 true >/dev/null 2>&1; "
        f'then exec timeout -k {KILL_AFTER} {limit} sh -c "$0"; fi; exec sh -c "$0"'
    )
    return f"sh -c {shlex.quote(script)} {shlex.quote(command)}"


def nested_timeout(timeout: float | None, deadline: float | None) -> float | None:
    """A command's limit inside its step: it ends on the host before the step's ``deadline``.

    The host's ``timeout -k`` sends KILL ``KILL_AFTER`` s after TERM, so the command's own
    limit is what is left of the step less that, and never more than ``timeout``.
    """
    if deadline is None:
        return timeout
    left = float(max(1, math.floor(deadline - time.monotonic() - KILL_AFTER - 1.0)))
    return left if timeout is None else min(timeout, left)


class StepRecorder:
    """Collects one step's commands, data and warnings, then builds its result."""

    def __init__(self, name: str, *, dry_run: bool = False, title: str = "") -> None:
        self.name = name
        self.title = title
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
        sudo runs without a pty (the password goes to ``sudo -S`` on stdin, never echoed).
        Over SSH a command with a ``timeout`` runs under ``host_timeout``, so it is ended on
        the host, not only cut off here; either way it is recorded with no exit code and a
        note saying it timed out. The record keeps ``command`` as the step wrote it.

        Connection errors propagate (after the command is recorded as unfinished), and so
        does ``SudoRefused``: the step fails and the engine decides what happens next.
        """
        wire = f"LC_ALL=C {command}" if parse else command
        session = session_of(c)
        if session.sealed:
            raise HostUnavailable(session.sealed)
        timeout = nested_timeout(timeout, session.deadline)
        started = time.time()
        clock = time.monotonic()
        record = CommandRecord(command=wire, exit_code=None, started=started)
        self.commands.append(record)
        options: dict[str, Any] = {"hide": True, "warn": True, "in_stream": False}
        sent = wire
        if timeout is not None:
            options["timeout"] = timeout
            if isinstance(c, Connection):
                sent = host_timeout(wire, timeout)
                options["timeout"] = timeout + KILL_AFTER + CHANNEL_GRACE
        try:
            if sudo_password is not None and getattr(c, "user", None) != "root":
                result = c.sudo(sent, password=sudo_password, pty=False, **options)
            else:
                result = c.run(sent, **options)
        except CommandTimedOut as exc:
            if exc.result is not None:
                record.stdout, record.stderr = exc.result.stdout, exc.result.stderr
            record.note = f"timed out after {timeout:g} s; the channel was closed"
        except AuthFailure as exc:
            record.stderr = exc.result.stderr if exc.result is not None else ""
            record.note = "sudo refused the password"
            user, host = getattr(c, "user", "?"), getattr(c, "original_host", "?")
            raise SudoRefused(
                f"sudo on {host} refused the password for {user}: check sudo_password "
                "(runbook.yaml, RUNBOOK_SUDO_PASSWORD or --ask-sudo-password)"
            ) from None
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
                ran = time.monotonic() - clock
                if sent != wire and result.exited in _ENDED_BY_TIMEOUT and ran >= (timeout or 0.0):
                    record.exit_code = None
                    record.note = f"timed out after {timeout:g} s; ended on the host (exit {result.exited})"
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
            title=self.title,
        )


StepBody = Callable[Concatenate[Context, StepRecorder, P], StepResult]
StepTask = Callable[Concatenate[Context, P], StepResult]


def step(name: str, *, title: str = "", needs: tuple[str, ...] = ()) -> Callable[[StepBody[P]], StepTask[P]]:
    """Make ``body(c, rec, **options)`` a Fabric task named ``name``: ``(c, **options) -> StepResult``.

    ``name`` is both the task's name and the name its results record; ``title`` is what a
    record calls it (default: ``name`` with spaces); ``needs`` names the steps that must run
    before it for it to mean anything (``--only``/``--skip`` keep them). The task never raises
    on a failure inside the step: the result is ``failed``, names the exception and keeps the
    commands that ran. Run by ``fab``/``invoke`` on a connection no runbook session was
    attached to, a failed step raises ``invoke.exceptions.Exit`` instead, so the command line
    exits 1 with its message.
    """
    rec_title = title or name.replace("_", " ")

    def decorate(body: StepBody[P]) -> StepTask[P]:
        @functools.wraps(body)
        def wrapper(c: Context, *args: P.args, **kwargs: P.kwargs) -> StepResult:
            standalone = not has_session(c)
            rec = StepRecorder(name, dry_run=bool(kwargs.get("dry_run", False)), title=rec_title)
            try:
                result = body(c, rec, *args, **kwargs)
            except Exception as exc:
                result = rec.finish(Outcome.FAILED, f"{name} failed: {type(exc).__name__}: {exc}")
            if standalone and result.failed:
                raise Exit(f"{name}: {result.message}", code=1)
            return result

        signature = inspect.signature(body)
        params = list(signature.parameters.values())
        setattr(wrapper, "__signature__", signature.replace(parameters=[params[0], *params[2:]]))  # noqa: B010
        del wrapper.__wrapped__
        made: StepTask[P] = task(wrapper, name=name)
        made.title = rec_title  # type: ignore[attr-defined]  # what the engine's own results call it
        made.needs = needs  # type: ignore[attr-defined]
        return made

    return decorate
