"""Stand-ins checked against real outputs: the recorded cases of tests/cases (captured on the VM hosts).

A case's ``input`` is what the real tool printed, ``rc`` its exit code and ``stream`` where it printed it
(``stdout`` or ``stderr``); cases kept only for this comparison (no runbook parser reads them, e.g.
tests/cases/systemctl) also name the ``command`` that printed them. A stand-in matches a case when it
prints the same text on the same stream, nothing on the other one, and exits the same; times, pids and
other numbers may differ (only the format is compared).
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

CASES = Path(__file__).resolve().parents[1] / "cases"
_MONTH = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")
_NUMBER = re.compile(r" ?\d+")


@dataclass(frozen=True)
class Recorded:
    """One real output: its text, exit code, stream, where it was captured and the command ("" unknown)."""

    text: str
    rc: int
    stream: str
    source: str
    command: str


def recorded(case: str) -> Recorded:
    """The case ``PARSER/NAME`` of tests/cases; it must say its stream."""
    data = json.loads((CASES / f"{case}.json").read_text())
    return Recorded(data["input"], data["rc"], data["stream"], data["source"], data.get("command", ""))


def shape(text: str) -> str:
    """``text`` with month names and numbers (with a padding space) replaced: its format only."""
    return _NUMBER.sub("#", _MONTH.sub("Mon", text))


def assert_matches(done: subprocess.CompletedProcess[str], case: str) -> None:
    """The stand-in's run printed what the real tool printed in ``case``: format, stream and exit code."""
    real = recorded(case)
    streams = {"stdout": done.stdout, "stderr": done.stderr}
    other = "stderr" if real.stream == "stdout" else "stdout"
    where = f"(real: {real.source})"
    assert done.returncode == real.rc, f"exit {done.returncode}, real {real.rc} {where}"
    assert shape(streams[real.stream]) == shape(real.text), f"{real.stream}: {streams[real.stream]!r} {where}"
    assert streams[other] == "", f"{other} should be empty: {streams[other]!r} {where}"
