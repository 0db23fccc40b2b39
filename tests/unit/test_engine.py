"""The engine's policies on custom steps: order, stop at first failure, dry run, fleets."""

from __future__ import annotations

import threading
import time

import pytest
from fabric import task
from invoke.context import Context, MockContext
from invoke.runners import Result

from runbook.commands import KILL_AFTER, StepRecorder, nested_timeout, step
from runbook.engine import NOT_RUN, Broadcast, FailurePolicy, not_run, run_fleet, run_host
from runbook.errors import HostUnavailable
from runbook.results import Ended, HostRun, Outcome, StepResult
from runbook.session import session_of
from runbook.settings import FleetSettings, Settings, SshSettings


@step("first")
def first(c: Context, rec: StepRecorder, dry_run: bool = False) -> StepResult:
    return rec.finish(Outcome.CHANGED, "would change" if dry_run else "changed")


@step("broken")
def broken(c: Context, rec: StepRecorder, dry_run: bool = False) -> StepResult:
    rec.run(c, "false")
    raise RuntimeError("disk on fire")


@step("last")
def last(c: Context, rec: StepRecorder, dry_run: bool = False) -> StepResult:
    return rec.finish(Outcome.OK, "fine")


def legacy(c: Context) -> StepResult:
    """A step without dry-run support."""
    return StepResult(step="legacy", outcome=Outcome.CHANGED, message="did it")


def _mock() -> MockContext:
    return MockContext(run={"LC_ALL=C false": Result(exited=1)})


def test_results_in_order_and_first_failure_stops_the_rest() -> None:
    run = run_host(_mock(), Settings(), [first, broken, last])
    assert [r.step for r in run.results] == ["first", "broken", "last"]
    assert [r.outcome for r in run.results] == [Outcome.CHANGED, Outcome.FAILED, Outcome.SKIPPED]
    assert "disk on fire" in run.results[1].message
    assert run.results[1].commands[0].command == "LC_ALL=C false"
    assert run.results[1].commands[0].exit_code == 1
    assert "broken failed" in run.results[2].message
    assert run.outcome is Outcome.FAILED
    assert not run


def test_a_step_declared_to_run_after_a_failure_still_runs_and_may_ask_for_every_crontab() -> None:
    asked: list[str] = []

    def wants_crontabs(c: Context, settings: Settings) -> bool:
        asked.append("asked")
        return True

    @step("reader", runs_after_failure=True, reads_every_crontab=wants_crontabs)
    def reader(c: Context, rec: StepRecorder, dry_run: bool = False) -> StepResult:
        return rec.finish(Outcome.OK, f"read, cron scope {session_of(c).cron_scope}")

    run = run_host(_mock(), Settings(), [broken, last, reader])
    assert [r.outcome for r in run.results] == [Outcome.FAILED, Outcome.SKIPPED, Outcome.OK]
    assert run.results[2].message == "read, cron scope jobs" and asked == ["asked"]


def test_keep_going_runs_every_step() -> None:
    run = run_host(_mock(), Settings(fleet=FleetSettings(stop_on_failure=False)), [broken, last])
    assert [r.outcome for r in run.results] == [Outcome.FAILED, Outcome.OK]


def test_dry_run_reaches_steps_and_skips_those_without_support() -> None:
    run = run_host(_mock(), Settings(dry_run=True), [first, legacy])
    assert run.results[0].message == "would change"
    assert run.results[0].dry_run
    assert run.results[1].outcome is Outcome.SKIPPED
    assert "does not support --dry-run" in run.results[1].message


def test_listener_hears_every_step_as_it_finishes() -> None:
    heard: list[str] = []

    class Listener:
        def host_started(self, run: object) -> None:
            heard.append("start")

        def step_finished(self, run: object, result: StepResult) -> None:
            heard.append(result.step)

        def host_finished(self, run: object) -> None:
            heard.append("end")

    run_host(_mock(), Settings(), [first, last], listener=Listener())
    assert heard == ["start", "first", "last", "end"]


def test_fleet_keeps_every_host_and_isolates_failures(tmp_path: object) -> None:
    settings = Settings(fleet=FleetSettings(parallel=3), ssh=SshSettings(connect_timeout=2.0))
    fleet = run_fleet(["no-such-host.invalid", "also-missing.invalid"], settings, [first])
    assert [run.host for run in fleet.runs] == ["no-such-host.invalid", "also-missing.invalid"]
    for run in fleet.runs:
        assert run.outcome is Outcome.FAILED
        assert run.error is not None and "unknown host name" in run.error
        assert run.results == []
    assert not fleet


def test_interrupt_between_steps_marks_the_run() -> None:
    stop = threading.Event()

    @step("stopper")
    def stopper(c: Context, rec: StepRecorder) -> StepResult:
        stop.set()
        return rec.finish(Outcome.OK, "asked to stop")

    run = run_host(_mock(), Settings(), [stopper, last], stop=stop)
    assert run.interrupted
    assert [r.step for r in run.results] == ["stopper"]
    assert run.outcome is Outcome.FAILED


def _failed(host: str) -> HostRun:
    return HostRun(host=host, error="unreachable")


def test_fail_fast_stops_after_the_first_failed_host() -> None:
    policy = FailurePolicy(5, fail_fast=True)
    policy.host_finished(HostRun(host="ok1", results=[StepResult("s", Outcome.OK, "fine")]))
    assert not policy.stopped
    policy.host_finished(_failed("bad1"))
    assert policy.reason == "--fail-fast stopped the fleet after bad1 failed"


def test_max_fail_percent_stops_once_more_than_p_percent_failed() -> None:
    policy = FailurePolicy(10, max_fail_percent=20)
    policy.host_finished(_failed("a"))
    policy.host_finished(_failed("b"))
    assert not policy.stopped
    policy.host_finished(_failed("c"))
    assert policy.reason == "3 of 10 hosts failed, over --max-fail-percent 20"


def test_not_run_and_interrupted_hosts_do_not_count_as_failures() -> None:
    policy = FailurePolicy(2, max_fail_percent=0)
    policy.host_finished(HostRun(host="a", error=NOT_RUN + "earlier stop"))
    policy.host_finished(HostRun(host="b", interrupted=True))
    assert not policy.stopped and policy.failed == []


def test_max_fail_percent_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="from 0 to 100"):
        FailurePolicy(3, max_fail_percent=150)


def test_fleet_with_fail_fast_records_hosts_not_started() -> None:
    names = ["first.invalid", "second.invalid", "third.invalid"]
    heard: list[str] = []

    class Listener:
        def host_started(self, run: HostRun) -> None:
            heard.append(f"start {run.host}")

        def step_finished(self, run: HostRun, result: StepResult) -> None:
            heard.append(result.step)

        def host_finished(self, run: HostRun) -> None:
            heard.append(f"end {run.host}")

    settings = Settings(fleet=FleetSettings(parallel=1), ssh=SshSettings(connect_timeout=2.0))
    fleet = run_fleet(names, settings, [first], listener=Listener(), policy=FailurePolicy(3, fail_fast=True))
    assert [run.host for run in fleet.runs] == names
    assert "unknown host name" in (fleet.runs[0].error or "")
    assert [not_run(run) for run in fleet.runs] == [False, True, True]
    assert fleet.runs[1].error == "not run: --fail-fast stopped the fleet after first.invalid failed"
    assert fleet.stopped == "--fail-fast stopped the fleet after first.invalid failed"
    assert heard == [f"{kind} {name}" for name in names for kind in ("start", "end")]
    assert fleet.to_dict()["stopped"] == fleet.stopped


def test_broadcast_passes_events_to_every_listener_in_order() -> None:
    heard: list[str] = []

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

        def host_started(self, run: HostRun) -> None:
            heard.append(f"{self.name} start")

        def step_finished(self, run: HostRun, result: StepResult) -> None:
            heard.append(f"{self.name} {result.step}")

        def host_finished(self, run: HostRun) -> None:
            heard.append(f"{self.name} end")

    run_host(_mock(), Settings(), [last], listener=Broadcast(Named("a"), Named("b")))
    assert heard == ["a start", "b start", "a last", "b last", "a end", "b end"]


def test_an_invalid_host_name_is_a_clear_host_error() -> None:
    fleet = run_fleet(["x" * 70 + ".example"], Settings(), [first])
    error = fleet.runs[0].error
    assert error is not None and "is not a valid DNS name" in error


@step("slow")
def slow(c: Context, rec: StepRecorder, dry_run: bool = False) -> StepResult:
    threading.Event().wait(5)
    return rec.finish(Outcome.OK, "too late")


def test_steps_share_one_worker_thread_and_a_late_step_stops_the_host() -> None:
    seen: list[int] = []

    @step("where")
    def where(c: Context, rec: StepRecorder, dry_run: bool = False) -> StepResult:
        seen.append(threading.get_ident())
        return rec.finish(Outcome.OK, "here")

    settings = Settings(fleet=FleetSettings(step_timeout=0.2))
    run = run_host(_mock(), settings, [where, where, slow, where])
    assert len(set(seen)) == 1 and seen[0] != threading.get_ident()
    assert [r.outcome for r in run.results] == [Outcome.OK, Outcome.OK, Outcome.FAILED]
    assert run.results[-1].ended is Ended.TIMED_OUT
    assert run.error is not None and "did not finish within the step timeout (0.2 s)" in run.error


def test_a_step_whose_thread_dies_fails_at_once() -> None:
    @step("exits")
    def exits(c: Context, rec: StepRecorder, dry_run: bool = False) -> StepResult:
        raise SystemExit(3)

    hook, threading.excepthook = threading.excepthook, lambda args: None
    try:
        run = run_host(_mock(), Settings(fleet=FleetSettings(step_timeout=30)), [exits, last])
    finally:
        threading.excepthook = hook
    assert [r.outcome for r in run.results] == [Outcome.FAILED]
    assert run.results[0].ended is Ended.WORKER_DIED
    assert "worker died (SystemExit: 3)" in run.results[0].message
    assert run.results[0].duration < 30  # not mistaken for a timeout
    assert run.error == run.results[0].message


def _uptime(c: Context) -> None:
    """A plain Fabric task: runs a command, returns nothing."""
    c.run("uptime")


def _shout(c: Context) -> Result | None:
    return c.run("false", warn=True)


def _crash(c: Context) -> None:
    c.run("echo no >&2; false", hide=True, in_stream=False)  # Invoke raises UnexpectedExit


uptime, shout, crash = task(_uptime, name="uptime"), task(_shout, name="shout"), task(_crash, name="crash")


def _plain_mock() -> MockContext:
    return MockContext(run={"uptime": Result("up 3 days\n"), "false": Result(exited=1, stderr="no\n")})


def test_a_plain_fabric_task_composes_with_runbook_steps() -> None:
    run = run_host(_plain_mock(), Settings(fleet=FleetSettings(step_timeout=30)), [first, uptime, last])
    assert [r.step for r in run.results] == ["first", "uptime", "last"]
    assert [r.outcome for r in run.results] == [Outcome.CHANGED, Outcome.OK, Outcome.OK]
    plain = run.results[1]
    assert plain.ended is Ended.NOT_A_RESULT
    assert plain.message == "uptime finished without an error and returned NoneType, not a StepResult"
    assert plain.duration < 30 and run.error is None


def test_a_plain_task_returning_a_failed_result_fails_and_keeps_the_command() -> None:
    run = run_host(_plain_mock(), Settings(), [shout, last])
    assert [r.outcome for r in run.results] == [Outcome.FAILED, Outcome.SKIPPED]
    assert run.results[0].ended is Ended.NOT_A_RESULT
    assert run.results[0].commands[0].exit_code == 1
    assert "returned its Invoke Result, not a StepResult" in run.results[0].message


def test_a_plain_task_that_raises_fails_with_its_command_and_message() -> None:
    run = run_host(Context(), Settings(), [crash, last])  # runs locally
    result = run.results[0]
    assert (result.outcome, result.ended) == (Outcome.FAILED, Ended.RAISED)
    assert result.message == "`echo no >&2; false` exited 1: no"
    assert result.commands[0].command == "echo no >&2; false"
    assert run.results[1].message == "not run: crash failed and the policy stops a host at its first failure"


def test_results_the_engine_makes_carry_the_task_name_and_title() -> None:
    run = run_host(_mock(), Settings(), [broken, last])
    assert run.results[1].step == getattr(last, "name", None) == "last"
    assert run.results[1].ended is Ended.NOT_RUN


def test_a_timed_out_step_cannot_reach_the_host_again() -> None:
    release = threading.Event()
    after: list[BaseException] = []
    done = threading.Event()

    @step("two_commands")
    def two_commands(c: Context, rec: StepRecorder, dry_run: bool = False) -> StepResult:
        rec.run(c, "true")
        release.wait(10)
        try:
            rec.run(c, "touch /tmp/second")
        except BaseException as exc:
            after.append(exc)
            raise
        finally:
            done.set()
        return rec.finish(Outcome.OK, "both ran")

    c = MockContext(run={"LC_ALL=C true": Result(), "LC_ALL=C touch /tmp/second": Result()})
    run = run_host(c, Settings(fleet=FleetSettings(step_timeout=0.3)), [two_commands, last])
    assert run.results[0].ended is Ended.TIMED_OUT and len(run.results) == 1
    release.set()
    assert done.wait(10)
    assert isinstance(after[0], HostUnavailable) and "step timeout" in str(after[0])
    sent = [call.args[0] for call in c.run.call_args_list]  # type: ignore[attr-defined]
    assert sent == ["LC_ALL=C true"]


def test_a_command_inside_a_step_ends_before_the_step() -> None:
    assert nested_timeout(None, None) is None
    assert nested_timeout(30.0, None) == 30.0
    deadline = time.monotonic() + 100
    assert nested_timeout(None, deadline) in {100 - KILL_AFTER - 1, 100 - KILL_AFTER - 2}
    assert nested_timeout(3600.0, deadline) in {100 - KILL_AFTER - 1, 100 - KILL_AFTER - 2}
    assert nested_timeout(None, time.monotonic() + 2) == 1.0
    assert nested_timeout(10.0, deadline) == 10.0
