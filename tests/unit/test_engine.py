"""The engine's policies on custom steps: order, stop at first failure, dry run, fleets."""

from __future__ import annotations

import threading

from invoke.context import Context, MockContext
from invoke.runners import Result

from runbook.commands import StepRecorder, step
from runbook.engine import run_fleet, run_host
from runbook.results import Outcome, StepResult
from runbook.settings import Settings


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


def test_keep_going_runs_every_step() -> None:
    run = run_host(_mock(), Settings(stop_on_failure=False), [broken, last])
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
    settings = Settings(parallel=3, connect_timeout=2.0)
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
