"""Selecting jobs and the rerun command: cron's environment, users, hostile values quoted."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from runbook.cron import (
    CronEntry,
    DueJob,
    EntryKind,
    job_environment,
    matches,
    parse_crontab,
    rerun_command,
    select,
)
from runbook.errors import RerunError

HOSTILE = "$(touch pwned1)`touch pwned2`;touch pwned3 'q\" \\\n& | > x"


def _entry(command: str = "/usr/local/bin/backup --all", user: str = "root", **env: str) -> CronEntry:
    return CronEntry("/etc/cron.d/backup", 2, user, "0 3 * * *", command, EntryKind.CRON, "UTC", env)


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, cwd=cwd, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("pattern", "selected"),
    [
        ("backup", True),
        ("/usr/local/bin/backup*", True),
        ("*backup --all", True),
        ("/etc/cron.d/backup:2", True),
        ("/etc/cron.d/*:2", True),
        ("Backup", False),
        ("restore", False),
        ("", False),
        ("back[u]p", False),
        ("*back[u]p*", True),
    ],
)
def test_patterns_match_command_or_id(pattern: str, selected: bool) -> None:
    assert matches(_entry(), pattern) is selected


def test_select_reports_unused_patterns() -> None:
    when = datetime(2017, 8, 22)
    jobs = [DueJob(_entry("backup"), (when,)), DueJob(_entry("report"), (when,))]
    chosen, unused = select(jobs, ["backup", "nothing", "$(id)"])
    assert [job.entry.command for job in chosen] == ["backup"]
    assert unused == ["nothing", "$(id)"]


def test_environment_is_crons() -> None:
    assert job_environment(_entry(user="alice")) == {
        "SHELL": "/bin/sh",
        "PATH": "/usr/bin:/bin",
        "LOGNAME": "alice",
        "USER": "alice",
    }
    env = job_environment(_entry(SHELL="/bin/bash", MAILTO="ops", LOGNAME="mallory"))
    assert env["SHELL"] == "/bin/bash"
    assert env["MAILTO"] == "ops"
    assert env["LOGNAME"] == "root"


@pytest.mark.parametrize("user", ["bob\nroot", "-c", "a b", "$(id)", "x;y", ""])
def test_hostile_users_are_refused(user: str) -> None:
    with pytest.raises(RerunError, match="is not a name su accepts"):
        rerun_command(_entry(user=user), timeout=60)


def test_variable_names_that_are_not_identifiers_are_refused() -> None:
    table = parse_crontab("-u=x\n0 3 * * * root job\n", source="/etc/crontab", zone="UTC")
    with pytest.raises(RerunError, match="cannot be passed safely"):
        rerun_command(table.entries[0], timeout=60)


def test_command_shape() -> None:
    command = rerun_command(_entry(user="alice"), timeout=90.4)
    assert command.startswith("sh -c ")
    assert "timeout -k 10 90" in command
    assert "su -s /bin/sh alice -c" in command
    assert "</dev/null" in command
    assert "HOME=~root" in rerun_command(_entry(), timeout=60)


@pytest.mark.skipif(os.geteuid() != 0, reason="runs a job as root locally")
def test_root_job_runs_in_crons_environment_with_hostile_values_inert(tmp_path: Path) -> None:
    entry = replace(
        _entry('printf "%s|" "$FOO" "$LOGNAME" "$PWD" "$PATH" "$MAILTO"; cat', FOO=HOSTILE, MAILTO=HOSTILE),
        stdin=HOSTILE + "\n",
    )
    entry = replace(entry, environment={**entry.environment, "HOME": str(tmp_path)})
    done = _run(rerun_command(entry, timeout=30), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{HOSTILE}|root|{tmp_path}|/usr/bin:/bin|{HOSTILE}|{HOSTILE}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="su needs root")
def test_user_job_runs_as_that_user(tmp_path: Path) -> None:
    entry = _entry('id -un; printf "%s\\n" "$HOME" "$USER" "$FOO"', user="nobody", HOME="/", FOO=HOSTILE)
    done = _run(rerun_command(entry, timeout=30), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:3] == ["nobody", "/", "nobody"]
    assert HOSTILE in done.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="runs a job as root locally")
def test_failure_exit_code_comes_through(tmp_path: Path) -> None:
    entry = _entry("echo failing >&2; exit 3", HOME=str(tmp_path))
    done = _run(rerun_command(entry, timeout=30), tmp_path)
    assert (done.returncode, done.stderr) == (3, "failing\n")
