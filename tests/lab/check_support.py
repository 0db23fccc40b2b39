"""Running ``runbook check`` through the real console script against the lab, and reading its output."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lab import Lab

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = Path(sys.executable).with_name("runbook")
_OFFSET = re.compile(r"(?:^|[ ,])'?(?:[^ =]*_)?offset'?=([-+0-9.e]+)s")
_BOUND = re.compile(r"(?:^|[ ,])'?(?:[^ =]*_)?bound'?=([-+0-9.e]+)s")


@dataclass(frozen=True)
class Checked:
    """A finished ``runbook check``: its exit status and stdout lines (stderr must be empty)."""

    code: int
    lines: list[str]

    @property
    def first(self) -> str:
        return self.lines[0] if self.lines else ""

    @property
    def offset(self) -> float:
        found = _OFFSET.search(self.first)
        assert found, self.first
        return float(found.group(1))

    @property
    def bound(self) -> float:
        found = _BOUND.search(self.first)
        assert found, self.first
        return float(found.group(1))


def run_check(lab: Lab, *args: str, timeout: float = 120) -> Checked:
    """``runbook -f LAB/runbook.yaml check ARGS`` as a monitoring engine would run it."""
    argv = [str(RUNBOOK), "-f", str(lab.layout.runbook_yaml), "check", *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT)
    assert done.stderr == "", done.stderr
    return Checked(done.returncode, done.stdout.splitlines())
