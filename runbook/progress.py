"""Live progress of a run, as an engine ``RunListener``.

``progress_for(stream, hosts, steps)`` picks the display: on a terminal, ``LiveProgress``
redraws a compact table in place (plain ANSI: cursor up, clear to the end of the screen)
with a status line, one row per running host (steps done and the last one finished) and prints
each failure as a lasting line when it happens; anywhere else (a pipe, a log file, CI)
``PlainProgress`` prints one line per finished step, as the CLI always did. Events come
from worker threads: both lock. Text from hosts (messages, errors) is printed with its control
characters escaped (``\x1b``) and on one line, as the records show it: a host cannot move the
cursor, retitle the terminal or write the clipboard (OSC 52).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Sequence
from typing import TextIO

from runbook.engine import not_run
from runbook.record.text import one_line
from runbook.results import HostRun, Outcome, StepResult

REDRAW_EVERY = 0.1
"""Seconds between redraws caused by step events (host starts and finishes redraw at once)."""

_UP_AND_CLEAR = "\x1b[{n}F\x1b[J"
_CLEAR = "\r\x1b[J"
_RED, _RESET = "\x1b[31m", "\x1b[0m"


class PlainProgress:
    """One line per finished step and per host error: ``HOST  STEP  OUTCOME  MESSAGE``."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def host_started(self, run: HostRun) -> None:
        pass

    def step_finished(self, run: HostRun, result: StepResult) -> None:
        self._line(run.host, result.title, result.outcome.value, result.message)

    def host_finished(self, run: HostRun) -> None:
        if run.error:
            self._line(run.host, "(host)", "not run" if not_run(run) else "failed", run.error)

    def close(self) -> None:
        pass

    def _line(self, host: str, what: str, outcome: str, message: str) -> None:
        with self._lock:
            self.stream.write(f"{one_line(host):<12} {what:<20} {outcome:<8} {one_line(message)}\n")
            self.stream.flush()


class LiveProgress:
    """A table redrawn in place on a terminal; failures stay printed above it."""

    def __init__(
        self, stream: TextIO, hosts: Sequence[str], steps: int, *, height: int | None = None
    ) -> None:
        self.stream = stream
        self.order = list(hosts)
        self.steps = steps
        self.height = height or shutil.get_terminal_size((100, 24)).lines
        self.state: dict[str, str] = dict.fromkeys(self.order, "waiting")
        self.done_steps: dict[str, int] = dict.fromkeys(self.order, 0)
        self.current: dict[str, str] = {}
        self.started = time.monotonic()
        self._drawn = 0
        self._last = 0.0
        self._lock = threading.Lock()

    def host_started(self, run: HostRun) -> None:
        with self._lock:
            self.state[run.host] = "running"
            self.current[run.host] = "connecting"
            self._draw(force=True)

    def step_finished(self, run: HostRun, result: StepResult) -> None:
        with self._lock:
            self.done_steps[run.host] = len(run.results)
            self.current[run.host] = f"last: {result.title}"
            if result.failed:
                self._lasting(f"{run.host}: {result.title} failed: {result.message}")
            self._draw(force=result.failed)

    def host_finished(self, run: HostRun) -> None:
        with self._lock:
            if not_run(run):
                self.state[run.host] = "not run"
            else:
                self.state[run.host] = run.outcome.value
                if run.error or run.interrupted:
                    self._lasting(f"{run.host}: {run.error or 'interrupted'}")
            self.current.pop(run.host, None)
            self._draw(force=True)

    def close(self) -> None:
        """Leave the final table on screen, followed by a new line."""
        with self._lock:
            self._draw(force=True)
            self.stream.flush()

    def status_line(self) -> str:
        """``12/50 done · 3 running · 2 failed · 1 not run · 35 waiting · 4.2 s``."""
        tally: dict[str, int] = {}
        for state in self.state.values():
            tally[state] = tally.get(state, 0) + 1
        finished = sum(n for state, n in tally.items() if state not in ("waiting", "running"))
        parts = [f"{finished}/{len(self.order)} done"]
        for state in ("running", Outcome.FAILED.value, "not run", Outcome.CHANGED.value, "waiting"):
            if tally.get(state):
                parts.append(f"{tally[state]} {state}")
        parts.append(f"{time.monotonic() - self.started:.1f} s")
        return " · ".join(parts)

    def rows(self) -> list[str]:
        """One row per running host, as many as the terminal holds."""
        running = [host for host in self.order if self.state[host] == "running"]
        room = max(1, self.height - 3)
        shown = running if len(running) <= room else running[: room - 1]
        lines = [
            f"  {one_line(host):<12} {self.done_steps[host]}/{self.steps} steps  {self.current.get(host, '')}"
            for host in shown
        ]
        if len(shown) < len(running):
            lines.append(f"  … and {len(running) - len(shown)} more running")
        return lines

    def _lasting(self, text: str) -> None:
        self._erase()
        self.stream.write(f"{_RED}{one_line(text)}{_RESET}\n")

    def _erase(self) -> None:
        if self._drawn:
            self.stream.write(_UP_AND_CLEAR.format(n=self._drawn))
        else:
            self.stream.write(_CLEAR)
        self._drawn = 0

    def _draw(self, *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._last < REDRAW_EVERY:
            return
        self._last = now
        self._erase()
        lines = [self.status_line(), *self.rows()]
        self.stream.write("\n".join(lines) + "\n")
        self._drawn = len(lines)
        self.stream.flush()


def progress_for(stream: TextIO, hosts: Sequence[str], steps: int) -> PlainProgress | LiveProgress:
    """``LiveProgress`` when ``stream`` is a terminal, else ``PlainProgress``."""
    isatty = getattr(stream, "isatty", None)
    if callable(isatty) and isatty():
        return LiveProgress(stream, hosts, steps)
    return PlainProgress(stream)


__all__ = ["REDRAW_EVERY", "LiveProgress", "PlainProgress", "progress_for"]
