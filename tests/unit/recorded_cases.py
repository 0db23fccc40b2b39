"""Recorded-output cases (tests/cases/PARSER/*.json: parser, input, rc, expected), one runner for all."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

CASES = Path(__file__).parent.parent / "cases"
Parser = Callable[[str, int | None], Any]


def case_files(parsers: Mapping[str, Parser]) -> list[Path]:
    """Every case file of the named parsers, sorted."""
    return sorted(path for name in parsers for path in (CASES / name).glob("*.json"))


def check_case(parsers: Mapping[str, Parser], path: Path) -> None:
    """Run the case's parser on its input; a dict ``expected`` is checked key by key."""
    case = json.loads(path.read_text())
    got = parsers[case["parser"]](case["input"], case.get("rc"))
    expected = case["expected"]
    if isinstance(expected, dict):
        assert isinstance(got, dict)
        for key, value in expected.items():
            assert got[key] == (pytest.approx(value) if isinstance(value, float) else value), key
    else:
        assert got == (pytest.approx(expected) if isinstance(expected, float) else expected)
