"""Live progress on a fake terminal, plain lines elsewhere."""

from __future__ import annotations

import io

from runbook.engine import NOT_RUN
from runbook.progress import LiveProgress, PlainProgress, progress_for
from runbook.results import HostRun, Outcome, StepResult


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _step(name: str, outcome: Outcome, message: str = "") -> StepResult:
    return StepResult(step=name, outcome=outcome, message=message or outcome.value)


def test_plain_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = progress_for(stream, ["web01", "web02"], 8)
    assert isinstance(progress, PlainProgress)
    run = HostRun(host="web01")
    progress.host_started(run)
    run.results.append(_step("check_date", Outcome.OK, "host clock in step"))
    progress.step_finished(run, run.results[-1])
    progress.host_finished(run)
    progress.host_finished(HostRun(host="web02", error="web02 is unreachable: timed out"))
    progress.host_finished(HostRun(host="web03", error=NOT_RUN + "--fail-fast stopped the fleet"))
    lines = stream.getvalue().splitlines()
    assert lines[0].split() == ["web01", "check", "date", "ok", "host", "clock", "in", "step"]
    assert lines[1].split()[:3] == ["web02", "(host)", "failed"]
    assert lines[2].split()[:4] == ["web03", "(host)", "not", "run"]
    assert "\x1b" not in stream.getvalue()


def test_live_table_on_a_terminal() -> None:
    stream = FakeTerminal()
    progress = progress_for(stream, ["a", "b", "c"], 4)
    assert isinstance(progress, LiveProgress)
    run_a, run_b = HostRun(host="a"), HostRun(host="b")
    progress.host_started(run_a)
    progress.host_started(run_b)
    assert progress.status_line().startswith("0/3 done · 2 running · 1 waiting")
    run_a.results.append(_step("check_date", Outcome.OK))
    progress.step_finished(run_a, run_a.results[-1])
    assert "  a            1/4 steps  last: check date" in progress.rows()
    run_b.results.append(_step("verify", Outcome.FAILED, "ntpd is not running"))
    progress.step_finished(run_b, run_b.results[-1])
    progress.host_finished(run_b)
    progress.host_finished(HostRun(host="c", error=NOT_RUN + "too many failed"))
    progress.close()
    out = stream.getvalue()
    assert "\x1b[31mb: verify failed: ntpd is not running\x1b[0m\n" in out
    assert "\x1b[J" in out and "\x1b[2F" in out  # redrawn in place: up over the 2 lines drawn, clear
    assert progress.status_line().startswith("2/3 done · 1 running · 1 failed · 1 not run")
    # the failure stays: it was printed once, outside the redrawn table
    assert out.count("verify failed") == 1
    final = out.rsplit("\x1b[J", 1)[1]
    assert final.startswith("2/3 done") and "a            1/4 steps" in final


def test_rows_fit_the_terminal() -> None:
    hosts = [f"h{n}" for n in range(30)]
    progress = LiveProgress(FakeTerminal(), hosts, 8, height=8)
    for host in hosts:
        progress.host_started(HostRun(host=host))
    rows = progress.rows()
    assert len(rows) == 5 and rows[-1] == "  … and 26 more running"


def test_step_events_redraw_at_most_every_tenth_of_a_second() -> None:
    stream = FakeTerminal()
    progress = LiveProgress(stream, ["a"], 8)
    run = HostRun(host="a")
    progress.host_started(run)
    drawn = stream.getvalue().count("done ·")
    for _ in range(20):
        run.results.append(_step("check_date", Outcome.OK))
        progress.step_finished(run, run.results[-1])
    assert stream.getvalue().count("done ·") <= drawn + 1
