"""Running a runbook: its steps in order on one host over one connection, or on a fleet.

A host's run opens one verified connection, runs each step, and follows the failure
policy: with ``stop_on_failure`` the steps after a failed one are recorded as skipped,
never silently dropped. A fleet runs hosts in a bounded thread pool; one host's
failure, or an exception anywhere in its run, is recorded on that host and never stops
or loses the others, unless a ``FailurePolicy`` (``--fail-fast``, ``--max-fail-percent``)
says to stop starting new hosts: those are recorded as not run. A listener hears every
step as it finishes (the journal, progress).
"""

from __future__ import annotations

import inspect
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from fabric import Connection
from invoke.context import Context
from invoke.runners import Result

from runbook.connect import connection_for, open_verified
from runbook.errors import HostUnavailable
from runbook.facts import HostFacts, cached_facts
from runbook.results import CommandRecord, Ended, FleetRun, HostRun, Outcome, StepResult
from runbook.session import attach, session_of
from runbook.settings import Settings
from runbook.steps.backup import rerun_backup
from runbook.steps.clock import check_date, verify_clock
from runbook.steps.compare import compare
from runbook.steps.missed_jobs import missed_jobs
from runbook.steps.rtc import sync_rtc
from runbook.steps.site import check_site
from runbook.steps.timesync import one_shot_sync, restart_daemon, start_enable_daemon

Step = Callable[..., object]
"""A step: a runbook step, or any Invoke/Fabric task or function taking the connection."""


class RunListener(Protocol):
    """Hears a run as it happens. Called from worker threads: implementations lock."""

    def host_started(self, run: HostRun) -> None: ...

    def step_finished(self, run: HostRun, result: StepResult) -> None: ...

    def host_finished(self, run: HostRun) -> None: ...


class _Silent:
    def host_started(self, run: HostRun) -> None:
        pass

    def step_finished(self, run: HostRun, result: StepResult) -> None:
        pass

    def host_finished(self, run: HostRun) -> None:
        pass


class Broadcast:
    """One listener that passes every event to several, in order."""

    def __init__(self, *listeners: RunListener) -> None:
        self.listeners = listeners

    def host_started(self, run: HostRun) -> None:
        for listener in self.listeners:
            listener.host_started(run)

    def step_finished(self, run: HostRun, result: StepResult) -> None:
        for listener in self.listeners:
            listener.step_finished(run, result)

    def host_finished(self, run: HostRun) -> None:
        for listener in self.listeners:
            listener.host_finished(run)


NOT_RUN = "not run: "
"""How a host's ``error`` starts when the fleet stopped before starting it."""


def not_run(run: HostRun) -> bool:
    """Whether the fleet's failure policy kept ``run``'s host from starting."""
    return bool(run.error and run.error.startswith(NOT_RUN))


class FailurePolicy:
    """When a fleet stops starting new hosts: after the first failed host (``fail_fast``) or
    once more than ``max_fail_percent`` % of the ``total`` hosts failed. Thread-safe."""

    def __init__(self, total: int, *, fail_fast: bool = False, max_fail_percent: float | None = None) -> None:
        if max_fail_percent is not None and not 0 <= max_fail_percent <= 100:
            raise ValueError(f"--max-fail-percent must be from 0 to 100, not {max_fail_percent:g}")
        self.total = total
        self.fail_fast = fail_fast
        self.max_fail_percent = max_fail_percent
        self.failed: list[str] = []
        self.reason: str | None = None
        self._lock = threading.Lock()

    def host_finished(self, run: HostRun) -> None:
        """Count ``run`` if it failed (a host not run or interrupted does not count)."""
        if run or not_run(run) or run.interrupted:
            return
        with self._lock:
            self.failed.append(run.host)
            if self.reason is not None:
                return
            if self.fail_fast:
                self.reason = f"--fail-fast stopped the fleet after {run.host} failed"
            elif (
                self.max_fail_percent is not None
                and len(self.failed) * 100 > self.max_fail_percent * self.total
            ):
                self.reason = (
                    f"{len(self.failed)} of {self.total} hosts failed, over --max-fail-percent "
                    f"{self.max_fail_percent:g}"
                )

    @property
    def stopped(self) -> bool:
        return self.reason is not None


def default_steps() -> list[Step]:
    """The post-maintenance runbook of the seed incident, in order."""
    return [
        check_date,
        restart_daemon,
        one_shot_sync,
        start_enable_daemon,
        verify_clock,
        sync_rtc,
        rerun_backup,
        missed_jobs,
        check_site,
        compare,
    ]


def step_name(step: Step) -> str:
    """The name a step records its results under."""
    body = getattr(step, "body", step)
    return str(getattr(step, "name", None) or getattr(body, "__name__", "step"))


def run_host(
    host: str | Context,
    settings: Settings,
    steps: Sequence[Step] | None = None,
    *,
    listener: RunListener | None = None,
    stop: threading.Event | None = None,
    left_out: Mapping[str, str] | None = None,
) -> HostRun:
    """Run ``steps`` (default: the whole runbook) on one host and return everything that happened.

    ``host`` is a name (looked up in ``settings.ssh.config``) or an existing Context/Connection.
    Steps named in ``left_out`` are recorded as skipped, with its reason (``runbook.selection``).
    Never raises for a host's failure; KeyboardInterrupt marks the run interrupted and propagates.
    """
    steps = list(default_steps() if steps is None else steps)
    hear = listener or _Silent()
    name = host if isinstance(host, str) else str(getattr(host, "original_host", None) or "local")
    run = HostRun(host=name, started=time.time())
    hear.host_started(run)
    c: Context | None = None
    try:
        c = connection_for(host, settings) if isinstance(host, str) else host
        attach(c, settings)
        if isinstance(c, Connection):
            run.facts["address"] = c.host
            open_verified(c, settings)
            run.connections = 1
        _run_steps(c, run, steps, settings, hear=hear, stop=stop, left_out=left_out or {})
    except HostUnavailable as exc:
        run.error = str(exc)
    except KeyboardInterrupt:
        run.interrupted = True
        raise
    except Exception as exc:
        run.error = f"{type(exc).__name__}: {exc}"
    finally:
        if isinstance(c, Connection):
            c.close()
        run.finished = time.time()
        hear.host_finished(run)
    return run


def run_fleet(
    hosts: Iterable[str],
    settings: Settings,
    steps: Sequence[Step] | None = None,
    *,
    listener: RunListener | None = None,
    policy: FailurePolicy | None = None,
    left_out: Mapping[str, str] | None = None,
    host_settings: Callable[[str], Settings] | None = None,
) -> FleetRun:
    """Run the runbook on every host, ``settings.fleet.parallel`` at a time, keeping every host's result.

    ``host_settings(name)`` gives a host settings of its own (``runbook.configuration``'s
    ``for:`` entries); ``left_out`` is as for ``run_host``.
    Hosts start in the order given; once ``policy`` says stop, hosts not yet started are
    recorded as not run (``error`` starting ``"not run: "``) and ``fleet.stopped`` says why.
    On KeyboardInterrupt, hosts stop after their current step; runs not finished are marked
    interrupted and returned with what they did, so the caller can still write the records.
    """
    names = list(dict.fromkeys(hosts))
    fleet = FleetRun(started=time.time())
    stop = threading.Event()
    runs: dict[str, HostRun] = {}
    rules = policy or FailurePolicy(len(names))

    class _Collect:
        def host_started(self, run: HostRun) -> None:
            runs[run.host] = run
            if listener:
                listener.host_started(run)

        def step_finished(self, run: HostRun, result: StepResult) -> None:
            if listener:
                listener.step_finished(run, result)

        def host_finished(self, run: HostRun) -> None:
            rules.host_finished(run)
            if listener:
                listener.host_finished(run)

    collect = _Collect()

    def start(name: str) -> HostRun:
        if rules.reason is None:
            chosen = host_settings(name) if host_settings else settings
            return run_host(name, chosen, steps, listener=collect, stop=stop, left_out=left_out)
        run = HostRun(host=name, started=time.time(), error=NOT_RUN + rules.reason)
        collect.host_started(run)
        run.finished = run.started
        collect.host_finished(run)
        return run

    pool = ThreadPoolExecutor(max_workers=max(1, min(settings.fleet.parallel, len(names) or 1)))
    futures = {name: pool.submit(start, name) for name in names}
    try:
        for future in futures.values():
            future.result()
    except KeyboardInterrupt:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        for name in names:
            run = runs.setdefault(name, HostRun(host=name, started=fleet.started))
            if not futures[name].done():
                run.interrupted = True
        fleet.runs = [runs[name] for name in names]
        fleet.finished = time.time()
        raise FleetInterrupted(fleet) from None
    pool.shutdown()
    fleet.runs = [futures[name].result() for name in names]
    fleet.stopped = rules.reason
    fleet.finished = time.time()
    return fleet


class FleetInterrupted(KeyboardInterrupt):
    """Ctrl-C during a fleet run; ``fleet`` holds what was done so far."""

    def __init__(self, fleet: FleetRun) -> None:
        super().__init__("interrupted")
        self.fleet = fleet


def _run_steps(
    c: Context,
    run: HostRun,
    steps: Sequence[Step],
    settings: Settings,
    *,
    hear: RunListener,
    stop: threading.Event | None,
    left_out: Mapping[str, str],
) -> None:
    failed: str | None = None
    shown: HostFacts | None = None  # the (frozen) facts whose header run.facts already has
    if any(_reads_every_crontab(step, c, settings) for step in steps if step_name(step) not in left_out):
        session_of(c).cron_scope = "jobs"  # the probe reads them: no command of the step's own later
    worker = _StepWorker()
    try:
        for step in steps:
            if stop is not None and stop.is_set():
                run.interrupted = True
                return
            if step_name(step) in left_out:
                result = _made(step, Outcome.SKIPPED, left_out[step_name(step)], Ended.NOT_RUN)
            elif failed is not None and not getattr(step, "runs_after_failure", False):
                result = _made(
                    step,
                    Outcome.SKIPPED,
                    f"not run: {failed} failed and the policy stops a host at its first failure",
                    Ended.NOT_RUN,
                )
            else:
                result = _call_within(step, c, settings, worker)
                if result.failed and settings.fleet.stop_on_failure:
                    failed = result.step
            run.results.append(result)
            facts = cached_facts(c)
            if facts is not None and facts is not shown:
                run.facts.update(facts.header())
                shown = facts
            hear.step_finished(run, result)
            if result.ended in {Ended.TIMED_OUT, Ended.WORKER_DIED}:
                run.error = result.message
                return
    finally:
        worker.close()


def _reads_every_crontab(step: Step, c: Context, settings: Settings) -> bool:
    """What the step's ``reads_every_crontab`` says (``@step``), false for a plain task."""
    asks = getattr(step, "reads_every_crontab", None)
    return bool(asks(c, settings)) if asks is not None else False


@dataclass(frozen=True)
class _Returned:
    value: object


@dataclass(frozen=True)
class _Raised:
    error: Exception


@dataclass(frozen=True)
class _Died:
    error: BaseException


_Ending = _Returned | _Raised | _Died
_Job = tuple[Callable[[], object], list[_Ending], threading.Event]


class _StepWorker:
    """One daemon thread that runs a host's steps one after another (a thread per step cost more).

    ``call`` tells apart a step that returned, one that raised, a worker that died (the step
    raised something that is not an ``Exception``, which ends the thread) and a step still
    running at its timeout (``None``: the thread is abandoned with it; the host stops).
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def call(self, job: Callable[[], object], timeout: float) -> _Ending | None:
        """How ``job()`` ended, or None when it had not within ``timeout`` seconds."""
        done = threading.Event()
        ending: list[_Ending] = []
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._serve, daemon=True)
            self._thread.start()
        self._jobs.put((job, ending, done))
        done.wait(timeout)
        return ending[0] if ending else None

    def close(self) -> None:
        self._jobs.put(None)

    def _serve(self) -> None:
        while (item := self._jobs.get()) is not None:
            job, ending, done = item
            try:
                ending.append(_Returned(job()))
            except Exception as exc:
                ending.append(_Raised(exc))
            except BaseException as exc:  # SystemExit and the like: this thread ends here
                ending.append(_Died(exc))
                return
            finally:
                done.set()


def _call_within(step: Step, c: Context, settings: Settings, worker: _StepWorker) -> StepResult:
    """Run ``step`` bounded by ``settings.fleet.step_timeout``; past it the host is sealed off and stops.

    The session's deadline makes each command's own limit end before the step's; once a
    step timed out the connection is sealed, so the abandoned step cannot reach the host again.
    """
    session = session_of(c)
    started = time.time()
    session.deadline = time.monotonic() + settings.fleet.step_timeout
    try:
        ending = worker.call(lambda: _call(step, c, settings), settings.fleet.step_timeout)
    finally:
        session.deadline = None
    name = step_name(step)
    if ending is None:
        reason = f"{name} did not finish within the step timeout ({settings.fleet.step_timeout:g} s)"
        session.seal(f"{reason}: nothing more is sent to this host in this run")
        if isinstance(c, Connection):
            c.close()
        return _made(
            step,
            Outcome.FAILED,
            f"{reason}: closed the connection and stopped this host",
            Ended.TIMED_OUT,
            started=started,
            duration=settings.fleet.step_timeout,
        )
    duration = time.time() - started
    if isinstance(ending, _Died):
        session.seal(f"{name}'s worker died: nothing more is sent to this host in this run")
        if isinstance(c, Connection):
            c.close()
        return _made(
            step,
            Outcome.FAILED,
            f"{name}'s worker died ({_one_line(ending.error)}): stopped this host",
            Ended.WORKER_DIED,
            started=started,
            duration=duration,
        )
    if isinstance(ending, _Raised):
        return _raised(step, ending.error, started, duration)
    if isinstance(ending.value, StepResult):
        return ending.value
    return _not_a_result(step, ending.value, started, duration)


def _call(step: Step, c: Context, settings: Settings) -> object:
    kwargs: dict[str, Any] = {}
    if settings.dry_run:
        if "dry_run" not in inspect.signature(getattr(step, "body", step)).parameters:
            result = _made(
                step, Outcome.SKIPPED, "not run: this step does not support --dry-run", Ended.NOT_RUN
            )
            result.dry_run = True
            return result
        kwargs["dry_run"] = True
    return step(c, **kwargs)


def _made(
    step: Step, outcome: Outcome, message: str, ended: Ended, *, started: float = 0.0, duration: float = 0.0
) -> StepResult:
    """A result the engine writes for ``step`` itself."""
    return StepResult(
        step=step_name(step),
        outcome=outcome,
        message=message,
        started=started or time.time(),
        duration=duration,
        title=str(getattr(step, "title", "") or ""),
        ended=ended,
    )


def _raised(step: Step, error: Exception, started: float, duration: float) -> StepResult:
    """A step that raised: failed, with the exception's first line (and the command, for Invoke's)."""
    result = _made(step, Outcome.FAILED, _one_line(error), Ended.RAISED, started=started, duration=duration)
    ran = getattr(error, "result", None)
    if isinstance(ran, Result):
        result.commands.append(_command_record(ran))
        result.message = f"`{ran.command}` exited {ran.exited}" + (
            f": {_last_line(ran.stderr)}" if ran.stderr.strip() else ""
        )
    return result


def _not_a_result(step: Step, value: object, started: float, duration: float) -> StepResult:
    """A plain task's return value: ok unless it is a failed Invoke ``Result``; the message says so."""
    name = step_name(step)
    if isinstance(value, Result):
        result = _made(
            step,
            Outcome.OK if value.ok else Outcome.FAILED,
            f"`{value.command}` exited {value.exited} ({name} returned its Invoke Result, not a StepResult)",
            Ended.NOT_A_RESULT,
            started=started,
            duration=duration,
        )
        result.commands.append(_command_record(value))
        return result
    return _made(
        step,
        Outcome.OK,
        f"{name} finished without an error and returned {type(value).__name__}, not a StepResult",
        Ended.NOT_A_RESULT,
        started=started,
        duration=duration,
    )


def _command_record(ran: Result) -> CommandRecord:
    return CommandRecord(command=ran.command, exit_code=ran.exited, stdout=ran.stdout, stderr=ran.stderr)


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
