"""``to_dict`` builds what ``dataclasses.asdict`` built (same keys, order, values and copies), faster."""

from __future__ import annotations

import dataclasses
from collections import namedtuple
from typing import Any

from runbook.results import CommandRecord, HostRun, Outcome, StepResult

Pair = namedtuple("Pair", "low high")


@dataclasses.dataclass
class Nested:
    name: str
    values: list[int]


def _asdict_result(result: StepResult) -> dict[str, Any]:
    data = dataclasses.asdict(result)
    data["outcome"] = result.outcome.value
    data["ended"] = result.ended.value
    return data


def test_step_and_command_dicts_are_asdicts() -> None:
    data: dict[str, Any] = {
        "offset": 0.25,
        "stratum": 2,
        "ok": True,
        "missing": None,
        "servers": ["a", "b"],
        "nested": {"deep": [{"x": 1}, [1.5, None]], "text": "é ✓"},
        "tuple": (1, [2]),
        "pair": Pair(1, [2]),
        "record": Nested("n", [1, 2]),
    }
    commands = [
        CommandRecord("date", 0, stdout="Tue\n", started=1.0, duration=0.1),
        CommandRecord("ntpdate x", None, stderr="timeout", note="timed out", round_trips=8),
    ]
    result = StepResult("check_date", Outcome.CHANGED, "done", commands, 1.0, 2.0, data, ["w"], True)
    mine = result.to_dict()
    assert mine == _asdict_result(result)
    assert list(mine) == list(_asdict_result(result))
    assert list(mine["commands"][0]) == list(dataclasses.asdict(commands[0]))
    assert mine["data"]["record"] == {"name": "n", "values": [1, 2]}
    assert type(mine["data"]["pair"]) is Pair and type(mine["data"]["tuple"]) is tuple
    mine["data"]["nested"]["deep"][0]["x"] = 99  # a copy: the result is untouched
    mine["data"]["servers"].append("c")
    mine["warnings"].append("x")
    assert data["nested"]["deep"][0]["x"] == 1 and data["servers"] == ["a", "b"] and result.warnings == ["w"]
    plain = dataclasses.replace(result, data={k: data[k] for k in ("offset", "servers", "nested")})
    assert StepResult.from_dict(plain.to_dict()) == plain


def test_host_run_round_trip() -> None:
    run = HostRun("web1", [StepResult("verify", Outcome.OK, "fine", data={"offset": 0.001})], 1.0, 2.0)
    assert HostRun.from_dict(run.to_dict()).to_dict() == run.to_dict()
