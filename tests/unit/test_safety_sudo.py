"""Issue 12, item 4 and root jobs without sudo: how a command that needs root is sent, and what
the operator is told when sudo does not run it."""

from __future__ import annotations

import re

import pytest
from invoke.context import MockContext
from invoke.runners import Result

from runbook.commands import StepRecorder
from runbook.errors import SudoRefused

SUDO_N = re.compile(r"^sudo -n sh -c ", re.DOTALL)
SUDO_S = re.compile(r"^sudo -S -p '\[sudo for runbook [0-9a-f]{16}\] password: ' sh -c ", re.DOTALL)


def as_admin(answers: dict[object, Result]) -> MockContext:
    c = MockContext(run=answers)
    object.__setattr__(c, "user", "admin")
    object.__setattr__(c, "original_host", "web01")
    return c


@pytest.mark.parametrize(
    ("stderr", "exited", "said"),
    [
        ("sudo: a password is required\n", 1, "sudo on web01 needs a password for admin (sudo -n)"),
        ("sh: sudo: not found\n", 127, "sudo on web01 is not available for admin"),
        ("admin is not in the sudoers file.\n", 1, "sudo on web01 does not allow admin"),
    ],
)
def test_sudo_that_does_not_run_the_command_is_refused_clearly(stderr: str, exited: int, said: str) -> None:
    c = as_admin({SUDO_N: Result(stderr=stderr, exited=exited)})
    rec = StepRecorder("x")
    with pytest.raises(SudoRefused) as refused:
        rec.run(c, "crontab -l", sudo_password=None)
    assert str(refused.value).startswith(said + ": the command was not run; set sudo_password")
    assert "allow NOPASSWD sudo, or log in as root" in str(refused.value)
    assert rec.commands[-1].note == "sudo did not run the command"


def test_the_marker_is_taken_out_and_the_prompt_is_random() -> None:
    c = as_admin({SUDO_S: Result(stdout="ok\n", stderr="", exited=0)})
    rec = StepRecorder("x")
    with pytest.raises(SudoRefused, match="did not run the command for admin"):
        rec.run(c, "true", sudo_password="pw")  # no marker on stderr: sudo did not run it
    sent = [call.args[0] for call in c.run.call_args_list]  # type: ignore[attr-defined]
    marker = re.search(r"@@runbook:sudo-ok:[0-9a-f]{16}@@", sent[0])
    assert marker is not None and "exec </dev/null; LC_ALL=C true" in sent[0]
    c = as_admin({SUDO_N: Result(stdout="0\n", stderr="@@runbook:sudo-ok:X@@\n", exited=0)})
    with pytest.raises(SudoRefused):
        StepRecorder("x").run(c, "id -u", sudo_password=None)  # a marker, but not this command's


def test_commands_that_need_no_root_and_root_logins_use_no_sudo() -> None:
    c = as_admin({"LC_ALL=C date": Result("now\n")})
    assert StepRecorder("x").run(c, "date").stdout == "now\n"
    root = MockContext(run={"LC_ALL=C id -u": Result("0\n")})
    object.__setattr__(root, "user", "root")
    assert StepRecorder("x").run(root, "id -u", sudo_password=None).stdout == "0\n"
