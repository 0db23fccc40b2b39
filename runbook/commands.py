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
import secrets
import shlex
import threading
import time
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec

from fabric import Connection, task
from invoke.context import Context
from invoke.exceptions import CommandTimedOut, Exit, Failure

from runbook.errors import HostUnavailable, SudoRefused
from runbook.output import cap
from runbook.results import CommandRecord, Outcome, StepResult
from runbook.session import has_session, session_of
from runbook.stepdata import StepData

if TYPE_CHECKING:
    from runbook.settings import Settings

P = ParamSpec("P")

KILL_AFTER = 5
"""Seconds between the host's TERM and KILL to a command that ran out of time."""
CHANNEL_GRACE = 10.0
"""How much longer than the host's own limit the controller waits before closing the channel."""
_ENDED_BY_TIMEOUT = {124, 137, 143, -1}
"""124: the wrapper's and GNU timeout's; 137, 143: KILL, TERM (BusyBox's timeout); -1: the
session's top process itself ended by the signal (SSH then reports no exit status)."""
_SUDO_FAILURES = {
    "a password is required": "needs a password for {user} (sudo -n)",
    "incorrect password": "refused the password for {user}",
    "Sorry, try again": "refused the password for {user}",
    "no password was provided": "refused the password for {user}",
    "not in the sudoers": "does not allow {user}",
    "not allowed to": "does not allow {user}",
}


class Privilege(Enum):
    """``StepRecorder.run(sudo_password=NOT_PRIVILEGED)``: the command runs as the login user."""

    NOT_PRIVILEGED = "not privileged"


NOT_PRIVILEGED = Privilege.NOT_PRIVILEGED


def host_timeout(command: str, seconds: float, shell: str = "sh") -> str:
    """``command`` ended on the host after ``seconds``, with every process it started.

    Closing an SSH channel does not stop the remote process. With ``setsid`` (util-linux,
    BusyBox) the command runs in a process group of its own, stdin kept; a watchdog (a
    subshell of the wrapper, so no process but its ``sleep`` is started for it) sends that
    group TERM at the limit and KILL ``KILL_AFTER`` s later, and the wrapper exits 124 (a limit
    told by ``/proc/uptime``, which a clock step does not move: GNU ``timeout``'s timer would).
    The watchdog and its ``sleep`` are stopped as soon as the command's group is empty, in time
    or not, so they leave no process behind either. Without ``setsid``: GNU ``timeout -k``,
    which signals its process group; BusyBox ``timeout`` signals only its direct child (a job's
    child kept running), so that child is a shell that passes the TERM to its whole process
    group (the session's). Without either, the command runs as is (only the channel is closed).
    ``shell`` runs the command when the host has it (``sh`` otherwise): the probe asks for bash,
    which it would start itself.
    """
    limit = max(1, math.ceil(seconds))
    relay = shlex.quote('trap "trap - TERM; kill -TERM 0" TERM; exec 3<&0; sh -c "$0" <&3 3<&- & wait $!')
    timeout = f"timeout -k {KILL_AFTER} {limit}"
    script = (
        'rb_sh=sh; if [ "$1" != sh ] && command -v "$1" >/dev/null 2>&1; then rb_sh=$1; fi; '
        "if command -v setsid >/dev/null 2>&1; then "
        "read rb_s rb_x </proc/uptime 2>/dev/null || rb_s=0; "
        'exec 3<&0; setsid "$rb_sh" -c "$0" <&3 3<&- & rb_p=$!; exec 3<&-; '
        # the watchdog: a TERM at any point ends it and its sleep (the flag is read again once
        # the sleep's pid is known; KILL, as a TERM can reach the sleep before it stops catching)
        "( rb_z=; rb_stop=; "
        'trap \'rb_stop=1; if [ -n "$rb_z" ]; then kill -KILL "$rb_z" 2>/dev/null; fi\' TERM; '
        f"for rb_step in {limit}:TERM {KILL_AFTER}:KILL; do "
        '[ -z "$rb_stop" ] || exit 0; sleep "${rb_step%:*}" & rb_z=$!; '
        '[ -z "$rb_stop" ] || { kill -KILL "$rb_z" 2>/dev/null; exit 0; }; '
        'wait "$rb_z"; rb_z=; [ -z "$rb_stop" ] || exit 0; '
        'kill -"${rb_step#*:}" -"$rb_p" 2>/dev/null; done '
        ") </dev/null >/dev/null 2>&1 & rb_w=$!; "
        'wait "$rb_p"; rb_rc=$?; '
        "read rb_e rb_x </proc/uptime 2>/dev/null || rb_e=0; "
        'if ! kill -0 -"$rb_p" 2>/dev/null; then kill -TERM "$rb_w" 2>/dev/null; fi; '
        f'if [ $(( ${{rb_e%.*}} - ${{rb_s%.*}} )) -ge {limit} ] && [ "$rb_rc" -gt 128 ]; then rb_rc=124; fi; '
        'exit "$rb_rc"; fi; '
        "if timeout -k 1 5 true >/dev/null 2>&1; then "
        f'if timeout --help 2>&1 | grep -q BusyBox; then exec {timeout} sh -c {relay} "$0"; fi; '
        f'exec {timeout} "$rb_sh" -c "$0"; fi; exec "$rb_sh" -c "$0"'
    )
    return shlex.join(["sh", "-c", script, command, shell])


def nested_timeout(timeout: float | None, deadline: float | None) -> float | None:
    """A command's limit inside its step: it ends on the host before the step's ``deadline``.

    The host's ``timeout -k`` sends KILL ``KILL_AFTER`` s after TERM, so the command's own
    limit is what is left of the step less that, and never more than ``timeout``.
    """
    if deadline is None:
        return timeout
    left = float(max(1, math.floor(deadline - time.monotonic() - KILL_AFTER - 1.0)))
    return left if timeout is None else min(timeout, left)


class _SudoAnswer:
    """The password for sudo's random prompt, at most once; then the command's stdin ends.

    Invoke calls ``submit`` as a watcher (output threads) and ``read`` as the command's stdin
    (its stdin thread): nothing until the prompt was seen, then the password once, then end
    of file. (Not an Invoke ``StreamWatcher``: that is thread-local, the threads would not
    share the state.)
    """

    def __init__(self, prompt: str, password: str) -> None:
        self.prompt = prompt
        self.password = password
        self._seen = threading.Event()
        self._sent = False

    def submit(self, stream: str) -> list[str]:
        if self.prompt in stream:
            self._seen.set()
        return []

    def read(self, size: int = 1) -> str | None:
        if not self._seen.is_set():
            return None
        if self._sent:
            return ""
        self._sent = True
        return self.password + "\n"


def _as_root(command: str, password: str | None) -> tuple[str, str, _SudoAnswer | None]:
    """``command`` through sudo: ``(sent, marker, answer)``.

    With a password: ``sudo -S`` with a random prompt; without: ``sudo -n`` (NOPASSWD). The
    command gets ``/dev/null`` as stdin, and its shell first prints a random marker on
    stderr: no marker means sudo itself did not run it.
    """
    marker = f"@@runbook:sudo-ok:{secrets.token_hex(8)}@@"
    inner = f"printf '%s\\n' {marker} >&2; exec </dev/null; {command}"
    if password is None:
        return f"sudo -n sh -c {shlex.quote(inner)}", marker, None
    prompt = f"[sudo for runbook {secrets.token_hex(8)}] password: "
    sent = f"sudo -S -p {shlex.quote(prompt)} sh -c {shlex.quote(inner)}"
    return sent, marker, _SudoAnswer(prompt, password)


def _sudo_needs_a_terminal(host: str, user: str) -> SudoRefused:
    """sudoers' ``Defaults requiretty`` (CentOS 6.0-6.7's default): no password or NOPASSWD rule helps."""
    return SudoRefused(
        f"sudo on {host} requires a terminal (sudoers 'Defaults requiretty', as CentOS 6.0-6.7 shipped) "
        "and the runbook runs sudo without one: the command was not run; add "
        f"'Defaults:{user} !requiretty' to sudoers with visudo, or log in as root"
    )


def _sudo_refused(c: Context, stderr: str, exited: int | None) -> SudoRefused:
    user, host = getattr(c, "user", "?"), getattr(c, "original_host", "?")
    if "must have a tty" in stderr:
        return _sudo_needs_a_terminal(host, user)
    if exited == 127 or "sudo: not found" in stderr or "sudo: command not found" in stderr:
        said = f"is not available for {user}"
    else:
        said = next(
            (text.format(user=user) for clue, text in _SUDO_FAILURES.items() if clue in stderr),
            f"did not run the command for {user}",
        )
    return SudoRefused(
        f"sudo on {host} {said}: the command was not run; set sudo_password (runbook.yaml, "
        "RUNBOOK_SUDO_PASSWORD or --ask-sudo-password), allow NOPASSWD sudo, or log in as root"
    )


class StepRecorder:
    """Collects one step's commands, data and warnings, then builds its result."""

    def __init__(self, name: str, *, dry_run: bool = False, title: str = "", kind: str = "") -> None:
        self.name = name
        self.title = title
        self.kind = kind
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
        sudo_password: str | Privilege | None = NOT_PRIVILEGED,
    ) -> CommandRecord:
        """Run ``command`` on ``c``; pass ``sudo_password`` (``None`` too) when it needs root.

        A login user other than root runs such a command through sudo, without a pty:
        ``sudo -S`` with a random prompt answered at most once when a password is set, else
        ``sudo -n`` (NOPASSWD); either way the command itself gets no stdin. Root needs no
        sudo, and sudo's ``env_reset`` would drop the session's environment. Over SSH a
        command with a ``timeout`` runs under ``host_timeout``, so it is ended on the host with
        every process it started, not only cut off here; either way it is recorded with no
        exit code and a note saying it timed out. Output is kept within ``runbook.output``'s
        limit. The record keeps ``command`` as the step wrote it.

        Connection errors propagate (after the command is recorded as unfinished), and so
        does ``SudoRefused`` (sudo did not run the command): the step fails and the engine
        decides what happens next.
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
        marker = None
        user = getattr(c, "user", None)
        if not isinstance(sudo_password, Privilege) and user is not None and user != "root":
            sent, marker, answer = _as_root(sent, sudo_password)
            if answer is not None:
                options.update(in_stream=answer, watchers=[answer])
        try:
            result = c.run(sent, **options)
        except CommandTimedOut as exc:
            if exc.result is not None:
                record.stdout, record.stderr = cap(exc.result.stdout), cap(exc.result.stderr)
            record.note = f"timed out after {timeout:g} s; the channel was closed"
        except Failure as exc:
            if exc.result is not None:
                record.exit_code = exc.result.exited
                record.stdout, record.stderr = cap(exc.result.stdout), cap(exc.result.stderr)
            record.note = str(exc.reason or type(exc).__name__)
        except BaseException as exc:
            record.note = f"did not finish: {type(exc).__name__}: {exc}"
            raise
        else:
            if result is not None:
                record.exit_code = result.exited
                record.stdout, record.stderr = cap(result.stdout), cap(result.stderr)
                ran = time.monotonic() - clock
                if result.exited == -1 and ran >= options.get("timeout", math.inf):
                    # Invoke's timer closed the channel, but the runner asked whether the timer
                    # had run out while its thread was still closing it: no CommandTimedOut
                    record.exit_code = None
                    record.note = f"timed out after {timeout:g} s; the channel was closed"
                elif sent != wire and result.exited in _ENDED_BY_TIMEOUT and ran >= (timeout or 0.0):
                    record.exit_code = None
                    record.note = f"timed out after {timeout:g} s; ended on the host (exit {result.exited})"
        finally:
            record.duration = time.monotonic() - clock
        if marker is not None:
            self._check_sudo(c, record, marker)
        return record

    @staticmethod
    def _check_sudo(c: Context, record: CommandRecord, marker: str) -> None:
        """Take sudo's marker out of ``record``'s stderr; ``SudoRefused`` when it never came."""
        before, found, after = record.stderr.partition(marker + "\n")
        if found:
            record.stderr = before + after
            return
        if record.note or record.exit_code is None:
            return  # timed out or cut off: the note says so
        record.note = "sudo did not run the command"
        raise _sudo_refused(c, record.stderr, record.exit_code)

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
            kind=self.kind,
        )


StepBody = Callable[Concatenate[Context, StepRecorder, P], StepResult]
StepTask = Callable[Concatenate[Context, P], StepResult]


def step(
    name: str,
    *,
    title: str = "",
    data: type[StepData] | None = None,
    needs: tuple[str, ...] = (),
    runs_after_failure: bool = False,
    reads_every_crontab: Callable[[Context, Settings], bool] | None = None,
) -> Callable[[StepBody[P]], StepTask[P]]:
    """Make ``body(c, rec, **options)`` a Fabric task named ``name``: ``(c, **options) -> StepResult``.

    ``name`` is both the task's name and the name its results record; ``title`` is what a
    record calls it (default: ``name`` with spaces); ``data`` the type of what it records
    (``runbook.stepdata``), which records read back by type; ``needs`` names the steps that
    must run before it for it to mean anything (``--only``/``--skip`` keep them);
    ``runs_after_failure``: the engine runs it even after a step failed (it only reads);
    ``reads_every_crontab(c, settings)``: asked before the host's first step, true has the probe
    read every crontab (scope ``jobs``) so the step needs no command of its own for them. The task
    never raises on a failure inside the step: the result is ``failed``, names the exception
    and keeps the commands that ran. Run by ``fab``/``invoke`` on a connection no runbook
    session was attached to, a failed step raises ``invoke.exceptions.Exit`` instead, so the
    command line exits 1 with its message.
    """
    rec_title = title or name.replace("_", " ")
    kind = data.kind if data is not None else ""

    def decorate(body: StepBody[P]) -> StepTask[P]:
        @functools.wraps(body)
        def wrapper(c: Context, *args: P.args, **kwargs: P.kwargs) -> StepResult:
            standalone = not has_session(c)
            rec = StepRecorder(name, dry_run=bool(kwargs.get("dry_run", False)), title=rec_title, kind=kind)
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
        made.runs_after_failure = runs_after_failure  # type: ignore[attr-defined]
        made.reads_every_crontab = reads_every_crontab  # type: ignore[attr-defined]
        return made

    return decorate
