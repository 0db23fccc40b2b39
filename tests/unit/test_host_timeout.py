"""``host_timeout``'s wrapper on this machine's shells (limits, leftovers, stdin, the shell asked
for), and the controller's backstop behind it.

The lab tests (tests/lab/test_safety_commands.py) run it over SSH on lab hosts, BusyBox's
``timeout`` included; these run it here, many times, for the races a single run would not meet.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from fabric import Connection
from fabric.runners import Result

from runbook.commands import StepRecorder, host_timeout
from runbook.session import attach
from runbook.settings import build_settings

SHELLS = ["dash", "bash", "busybox"]


def wrapped(shell: str, command: str, seconds: float, run_by: str = "sh") -> list[str]:
    """The wrapper's argv with ``shell`` as the host's ``sh``."""
    words = shlex.split(host_timeout(command, seconds, run_by))
    assert words[:2] == ["sh", "-c"]
    return [*(["busybox", "sh"] if shell == "busybox" else [shell]), *words[1:]]


def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, check=False, capture_output=True, timeout=60, **kwargs)


def sleeps(seconds: int) -> int:
    """How many ``sleep SECONDS`` processes run on this machine."""
    return int(run(["pgrep", "-c", "-x", "-f", f"sleep {seconds}"]).stdout.strip() or 0)


@pytest.mark.parametrize("shell", SHELLS)
def test_commands_in_time_leave_no_watchdog_behind(shell: str) -> None:
    """The watchdog's sleep is ended with it, even when the command ends before the watchdog
    has started its sleep or caught TERM (300 quick commands, where the races are)."""
    limit = 3000 + SHELLS.index(shell)  # a sleep of this length is the watchdog's own
    before = sleeps(limit)
    for _ in range(300):
        done = run(wrapped(shell, "true", limit))
        assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 10
    while sleeps(limit) > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sleeps(limit) == before


@pytest.mark.parametrize("shell", SHELLS)
def test_a_command_past_its_limit_ends_with_its_jobs(shell: str) -> None:
    job, last = 2741, 2743  # lengths no other test sleeps (the lab's tests leave sleep 4321 running)
    started = time.monotonic()
    done = run(wrapped(shell, f"sleep {job} & sleep {last}", 1))
    assert done.returncode == 124 and time.monotonic() - started < 10
    deadline = time.monotonic() + 10
    while sleeps(job) + sleeps(last) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sleeps(job) + sleeps(last) == 0


@pytest.mark.parametrize("shell", SHELLS)
def test_the_command_reads_the_wrappers_stdin(shell: str) -> None:
    done = run(wrapped(shell, 'read a; echo "got $a"', 5), input=b"line\n")
    assert done.stdout == b"got line\n"


def test_the_shell_asked_for_runs_the_command_when_the_host_has_it(tmp_path: Path) -> None:
    command = 'if [ -n "${BASH_VERSION:-}" ]; then echo bash; else echo sh; fi'
    assert run(wrapped("dash", command, 5, "bash")).stdout == b"bash\n"
    assert run(wrapped("dash", command, 5)).stdout == b"sh\n"
    bin_dir = tmp_path / "bin"  # a host without bash: sh runs it
    bin_dir.mkdir()
    for tool in ("setsid", "sleep", "sh", "dash", "kill"):
        found = run(["sh", "-c", f"command -v {tool}"]).stdout.decode().strip()
        if found.startswith("/"):
            (bin_dir / tool).symlink_to(found)
    done = run(wrapped("dash", command, 5, "bash"), env={"PATH": str(bin_dir)})
    assert done.stdout == b"sh\n", done.stderr


class _ClosedByInvokesTimer(Connection):  # type: ignore[misc]
    """A connection whose command came back as Invoke returns it when its timer closed the channel
    but the runner missed that the timer ran out: exit -1, no CommandTimedOut."""

    def run(self, command: str, **kwargs: Any) -> Result:
        return Result(command=command, exited=-1, connection=self)


def test_the_controllers_backstop_is_a_timeout_even_when_invoke_misses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    c = _ClosedByInvokesTimer("web1")
    attach(c, build_settings({}))
    ticks = [0.0]

    def monotonic() -> float:  # 1000 s between any two readings: past the backstop (2 + 5 + 10 s)
        ticks[0] += 1000.0
        return ticks[0]

    monkeypatch.setattr("runbook.commands.time.monotonic", monotonic)
    record = StepRecorder("x").run(c, "sleep 100", timeout=2, parse=False)
    assert record.exit_code is None and record.note == "timed out after 2 s; the channel was closed"
