"""Steps compose like Fabric tasks, over real SSH on lab hosts: a plain Fabric task among runbook
steps, a failed step on the ``fab`` command line, and a timed-out step that may not reach its host again."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from fabric import Connection, task
from invoke.context import Context

from lab import Lab, LabHost
from lab.waiting import wait_until
from runbook import check_date, run_host, verify_clock
from runbook.commands import StepRecorder, step
from runbook.errors import HostUnavailable
from runbook.results import Ended, Outcome, StepResult
from runbook.settings import Settings, build_settings

pytestmark = pytest.mark.lab


def lab_settings(lab: Lab, **changes: object) -> Settings:
    return build_settings({**yaml.safe_load(lab.layout.runbook_yaml.read_text())["runbook"], **changes})


def _kernel(c: Connection) -> None:
    c.run("uname -r", hide=True)


kernel = task(_kernel, name="kernel")


def test_a_plain_fabric_task_runs_between_runbook_steps(lab: Lab, lab_host: Callable[..., LabHost]) -> None:
    host = lab_host()  # centos6: 3 h behind, ntpd stopped
    run = run_host(host.name, lab_settings(lab), [check_date, kernel, verify_clock])
    assert [r.step for r in run.results] == ["check_date", "kernel", "verify"]
    assert run.results[0].outcome is Outcome.OK
    assert (run.results[1].outcome, run.results[1].ended) == (Outcome.OK, Ended.NOT_A_RESULT), run.results[
        1
    ].message
    assert "kernel finished without an error and returned NoneType" in run.results[1].message
    assert run.results[2].outcome is Outcome.FAILED  # nothing fixed the clock
    assert run.connections == 1


FABFILE = """
from runbook import check_date
"""


def test_a_failed_step_on_the_fab_command_line_exits_1_with_its_message(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host()
    (tmp_path / "fabfile.py").write_text(FABFILE)
    config = tmp_path / "fabric.yaml"
    closed_port = {"ntp_servers": ["127.0.0.1"], "ntp_port": 9, "ntp_timeout": 0.5}  # nothing answers there
    config.write_text(yaml.safe_dump({"runbook": closed_port}))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "fabric",
            "-r",
            str(tmp_path),
            "-f",
            str(config),
            "-S",
            str(lab.layout.ssh_config),
            "-H",
            host.name,
            "check-date",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done
    assert done.stderr.strip().splitlines()[-1].startswith("check_date: cannot measure the host clock"), (
        done.stderr
    )


def test_a_timed_out_step_sends_nothing_more_to_its_host(lab: Lab, lab_host: Callable[..., LabHost]) -> None:
    """Issue 12, 1: once a step is past its timeout, nothing more of it reaches the host."""
    host = lab_host()
    release, ended = threading.Event(), threading.Event()
    seen: list[BaseException] = []

    @step("two_commands")
    def two_commands(c: Context, rec: StepRecorder, dry_run: bool = False) -> StepResult:
        try:
            rec.run(c, "true", parse=False)
            release.wait(60)  # slow work on the controller, past the step timeout
            rec.run(c, "touch /root/second-command", parse=False)
        except BaseException as exc:
            seen.append(exc)
            raise
        finally:
            ended.set()
        return rec.finish(Outcome.OK, "both ran")

    run = run_host(host.name, lab_settings(lab, step_timeout=2), [two_commands])
    assert run.results[0].ended is Ended.TIMED_OUT
    release.set()
    assert ended.wait(30), "the abandoned step never ended"
    assert seen and isinstance(seen[0], HostUnavailable), seen
    assert host.run("test -e /root/second-command").returncode == 1


def test_a_command_ends_on_the_host_before_its_step(lab: Lab, lab_host: Callable[..., LabHost]) -> None:
    """Issue 12, 1: limits nest; a command without its own limit still ends before the step's."""
    host = lab_host()

    @step("long_command")
    def long_command(c: Context, rec: StepRecorder, dry_run: bool = False) -> StepResult:
        record = rec.run(c, "sleep 300", parse=False)
        return rec.finish(Outcome.OK if record.ok else Outcome.FAILED, record.note)

    run = run_host(host.name, lab_settings(lab, step_timeout=8), [long_command])
    result = run.results[0]
    assert result.ended is Ended.RETURNED, result.message
    assert result.message.startswith("timed out after 1 s; ended on the host"), result.message
    # The command itself ('sleep 300', exec'd by sh) is gone as the step returns; the watchdog's
    # own short sleep, sent TERM as the command's group emptied, may take a moment to exit.
    assert host.run("pgrep -f '^sleep 300$'").returncode == 1, "the command outlived its limit"
    wait_until(
        lambda: host.run("pgrep -x sleep").returncode == 1, 10, "the watchdog's sleep to exit", interval=0.2
    )
