"""sudoers' ``Defaults requiretty`` (CentOS 6.0-6.7 shipped it) on a real sudo, over real OpenSSH: the runbook
runs sudo without a terminal, so it must say what to change instead of asking for a password."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from test_post_maint import post_maint

from lab import Lab, LabHost
from runbook.commands import StepRecorder
from runbook.connect import connect
from runbook.errors import SudoRefused

pytestmark = pytest.mark.lab
ADVICE = "add 'Defaults:admin !requiretty' to sudoers with visudo, or log in as root"


def test_the_knob_makes_sudo_refuse_without_a_terminal(lab: Lab, lab_host: Callable[..., LabHost]) -> None:
    host = lab_host(user="sudo", requiretty=True)
    done = host.run("sudo -S -p '' id -u", input=lab.record()["sudo_password"] + "\n")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "sudo: sorry, you must have a tty to run sudo\n"


@pytest.mark.parametrize("with_password", [True, False])
def test_the_runbook_says_what_to_change(
    lab: Lab, lab_host: Callable[..., LabHost], with_password: bool
) -> None:
    host = lab_host(user="sudo", requiretty=True)
    password = lab.record()["sudo_password"]
    c = connect(host.name, ssh_config=str(lab.layout.ssh_config))
    rec = StepRecorder("x")
    with pytest.raises(SudoRefused) as refused:
        rec.run(c, "id -u", timeout=30, sudo_password=password if with_password else None)
    message = str(refused.value)
    assert "requires a terminal (sudoers 'Defaults requiretty'" in message and message.endswith(ADVICE)
    assert rec.commands[-1].note == "sudo did not run the command"
    exempt = shlex.quote("echo 'Defaults:admin !requiretty' > /etc/sudoers.d/zz-runbook")
    on_terminal = shlex.quote(f"sudo -S -p '' sh -c {exempt}")
    assert host.run(f"script -qec {on_terminal} /dev/null", input=password + "\n").returncode == 0
    if with_password:
        again = StepRecorder("x").run(c, "id -u", timeout=30, sudo_password=password)
        assert (again.exit_code, again.stdout) == (0, "0\n")
    else:
        with pytest.raises(SudoRefused, match="needs a password for admin"):
            StepRecorder("x").run(c, "id -u", timeout=30, sudo_password=None)
    c.close()


def test_post_maint_stops_the_host_with_the_advice(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host(user="sudo", requiretty=True)
    done = post_maint(lab, tmp_path, host.name)
    assert done.returncode != 0
    assert ADVICE in done.stdout + done.stderr, done.stdout + done.stderr
    assert lab.clock_offset(host.name) == pytest.approx(-3 * 3600, abs=5)
