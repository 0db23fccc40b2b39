"""Typed step data: a step declares its data type, a record reads it back by type, not by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from invoke.context import Context

from runbook import stepdata
from runbook.commands import StepRecorder, step
from runbook.results import Outcome, StepResult
from runbook.stepdata import ClockCheck, StepData


def test_data_is_read_by_its_declared_kind() -> None:
    result = StepResult("anything", Outcome.OK, "", data={"offset": 3.0, "bound": 0.001}, kind="clock_check")
    assert stepdata.read(result) == ClockCheck(offset=3.0, bound=0.001)


def test_reading_is_lenient_about_missing_and_mistyped_fields() -> None:
    data = {"offset": "3", "bound": True, "stratum": 2, "server": 7}
    assert ClockCheck.from_data(data) == ClockCheck(stratum=2)


def test_kind_survives_the_json_round_trip() -> None:
    result = StepResult("mine", Outcome.OK, "", data={"offset": 1}, kind="clock_check")
    again = StepResult.from_dict(result.to_dict())
    assert again.kind == "clock_check"
    assert stepdata.read(again) == ClockCheck(offset=1)
    assert StepResult.from_dict({k: v for k, v in result.to_dict().items() if k != "kind"}).kind == ""


@dataclass(frozen=True)
class Uptime(StepData):
    kind: ClassVar[str] = "test_uptime"
    days: int | None = None


def test_a_custom_step_declares_its_own_type() -> None:
    @step("uptime_days", title="uptime", data=Uptime)
    def uptime_days(c: Context, rec: StepRecorder) -> StepResult:
        return rec.finish(Outcome.OK, "up 3 days", days=3)

    @step("my_clock", data=ClockCheck)
    def my_clock(c: Context, rec: StepRecorder) -> StepResult:
        return rec.finish(Outcome.OK, "measured", offset=-2.5)

    results = [uptime_days(Context()), my_clock(Context())]
    assert stepdata.read(results[0]) == Uptime(days=3)
    found = stepdata.first(results, ClockCheck)
    assert found is not None and found[1].offset == -2.5
    assert stepdata.read(StepResult("plain", Outcome.OK, "")) is None
