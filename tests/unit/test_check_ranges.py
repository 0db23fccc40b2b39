"""Threshold ranges as the Monitoring Plugins guidelines define them, and the states they give."""

from __future__ import annotations

import math

import pytest

from runbook.check.ranges import Range, RangeError, Thresholds, parse_range
from runbook.check.states import State, parse_level, worst

# (range, values that alert, values that do not): the guidelines' table of example ranges
GUIDELINE_EXAMPLES = [
    ("10", [-0.001, 10.001, 11], [0, 5, 10]),
    ("10:", [-1, 9.999], [10, 11, 1e9]),
    ("~:10", [10.001, 1e9], [-1e9, 0, 10]),
    ("10:20", [9.999, 20.001], [10, 15, 20]),
    ("@10:20", [10, 15, 20], [9.999, 20.001]),
]


@pytest.mark.parametrize(("text", "alerting", "quiet"), GUIDELINE_EXAMPLES)
def test_guideline_examples(text: str, alerting: list[float], quiet: list[float]) -> None:
    found = parse_range(text)
    assert all(found.alerts(v) for v in alerting), text
    assert not any(found.alerts(v) for v in quiet), text


def test_parsed_bounds() -> None:
    assert parse_range("0.5") == Range(0.0, 0.5, False, "0.5")
    assert parse_range("~:") == Range(-math.inf, math.inf, False, "~:")
    assert parse_range("@-1.5:+2e1") == Range(-1.5, 20.0, True, "@-1.5:+2e1")
    assert parse_range(" 5:6 ") == Range(5.0, 6.0, False, "5:6")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("@", "is empty"),
        ("20:10", "starts after it ends"),
        ("abc", "'abc' is not a number"),
        ("1:x", "'x' is not a number"),
        ("nan", "is not a number"),
        ("inf", "is not a number"),
        ("~", "is not a number"),
        ("1,5", "is not a number"),
    ],
)
def test_bad_ranges_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(RangeError, match=message) as caught:
        parse_range(text, "--warning")
    assert str(caught.value).startswith("--warning ")


def test_critical_is_checked_before_warning() -> None:
    both = Thresholds(parse_range("0.5"), parse_range("1"))
    assert [both.state(v) for v in (0, 0.5, 0.6, 1, 1.01, 10800)] == [
        State.OK,
        State.OK,
        State.WARNING,
        State.WARNING,
        State.CRITICAL,
        State.CRITICAL,
    ]
    # -w 10: -c 20 (guidelines): warn below 10, critical over 20 or below 0
    mixed = Thresholds(parse_range("10:"), parse_range("20"))
    assert [mixed.state(v) for v in (-1, 5, 15, 25)] == [
        State.CRITICAL,
        State.WARNING,
        State.OK,
        State.CRITICAL,
    ]
    assert Thresholds().state(1e9) is State.OK


def test_worst_state_ranks_critical_over_warning_over_unknown() -> None:
    assert worst([]) is State.OK
    assert worst([State.OK, State.UNKNOWN]) is State.UNKNOWN
    assert worst([State.UNKNOWN, State.WARNING, State.OK]) is State.WARNING
    assert worst([State.WARNING, State.CRITICAL, State.UNKNOWN]) is State.CRITICAL
    assert [int(s) for s in State] == [0, 1, 2, 3]


def test_levels() -> None:
    assert parse_level("Critical", "--daemon") is State.CRITICAL
    assert parse_level("warning", "--sync") is State.WARNING
    assert parse_level("ignore", "--backup") is None
    with pytest.raises(ValueError, match="--sync takes critical, warning or ignore, not 'off'"):
        parse_level("off", "--sync")
