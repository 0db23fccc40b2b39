"""Issue 12, item 10: escape sequences in host text never reach the operator's terminal raw."""

from __future__ import annotations

import io

from runbook.progress import LiveProgress, PlainProgress
from runbook.results import HostRun, Outcome, StepResult

CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # OSC 52: write "echo pwned" to the clipboard
CURSOR = "\x1b[2A\x1b[K"  # up two lines, erase: hide an earlier failure
MESSAGE = f"ntpd said {CLIPBOARD}{CURSOR}done\rok\nsecond line"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _events(progress: PlainProgress | LiveProgress) -> None:
    run = HostRun(host="web01")
    progress.host_started(run)
    run.results.append(StepResult(step="verify", outcome=Outcome.FAILED, message=MESSAGE))
    progress.step_finished(run, run.results[-1])
    run.error = f"host said {CLIPBOARD}"
    progress.host_finished(run)
    progress.close()


def test_plain_progress_escapes_host_text() -> None:
    stream = io.StringIO()
    _events(PlainProgress(stream))
    out = stream.getvalue()
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out
    assert "ntpd said \\x1b]52;c;ZWNobyBwd25lZA==\\x07\\x1b[2A\\x1b[Kdone\\x0dok ↵ second line" in out


def test_live_progress_escapes_host_text() -> None:
    stream = FakeTerminal()
    _events(LiveProgress(stream, ["web01"], 8))
    out = stream.getvalue()
    assert "]52;" in out and "\x1b]52" not in out and "\x07" not in out and "\x1b[2A" not in out
    assert "\\x1b]52;c;ZWNobyBwd25lZA==\\x07" in out
