"""The chkconfig stand-in, run for real on private /etc/init.d and /etc/rcN.d (tmpfs in a mount namespace)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from standin_support import STANDINS, Ran, require_root, run_isolated

CHKCONFIG = shlex.quote(str(STANDINS / "chkconfig"))
SCRIPTS = {
    "ntpd": "#!/bin/sh\n# chkconfig: - 58 74\n# description: ntpd is the NTPv4 daemon.\n",
    "sshd": "#!/bin/sh\n# chkconfig: 2345 55 25\n# description: OpenSSH server daemon\n",
    "debianish": "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: debianish\n### END INIT INFO\n",
}


def off_line(name: str, on: str = "") -> str:
    return f"{name:<15}" + "".join(f"\t{n}:{'on' if str(n) in on else 'off'}" for n in range(7))


def chkconfig(tmp_path: Path, *commands: str) -> list[Ran]:
    """Run `chkconfig ARGS` lines (and shell lines starting with '!') with fresh init.d and rc dirs."""
    require_root()
    scripts = tmp_path / "init.d"
    scripts.mkdir()
    for name, text in SCRIPTS.items():
        (scripts / name).write_text(text)
        (scripts / name).chmod(0o755)
    setup = "\n".join(
        [f"mount --bind {shlex.quote(str(scripts))} /etc/init.d"]
        + [f"mount -t tmpfs tmpfs /etc/rc{n}.d" for n in range(7)]
    )
    lines = [line[1:] if line.startswith("!") else f"{CHKCONFIG} {line}" for line in commands]
    outputs = tmp_path / "out"
    outputs.mkdir()
    return run_isolated(setup, lines, outputs)


def test_add_creates_kill_links_everywhere_for_a_dash_header(tmp_path: Path) -> None:
    added, listed, query, links = chkconfig(
        tmp_path,
        "--add ntpd",
        "--list ntpd",
        "ntpd",
        "!cd /etc && ls -l rc?.d | grep -o 'rc.\\.d.*\\|[SK].*'",
    )
    assert (added.rc, added.out, added.err) == (0, "", "")
    assert (listed.rc, listed.out) == (0, off_line("ntpd") + "\n")
    assert query.rc == 1
    assert links.out.count("K74ntpd -> ../init.d/ntpd") == 7


def test_on_off_and_the_current_runlevel(tmp_path: Path) -> None:
    on, listed, in_three, links, off3, after, in_two, in_235 = chkconfig(
        tmp_path,
        "ntpd on",
        "--list ntpd",
        "ntpd",
        "!readlink /etc/rc3.d/S58ntpd /etc/rc0.d/K74ntpd",
        "--level 3 ntpd off",
        "--list ntpd",
        "--level 2 ntpd",
        "--level 235 ntpd",
    )
    assert (on.rc, on.out, on.err) == (0, "", "")
    assert listed.out == off_line("ntpd", "2345") + "\n"
    assert listed.out.startswith("ntpd           \t0:off\t1:off\t2:on\t3:on\t4:on\t5:on\t6:off")
    assert in_three.rc == 0
    assert links.out == "../init.d/ntpd\n../init.d/ntpd\n"
    assert off3.rc == 0
    assert after.out == off_line("ntpd", "245") + "\n"
    assert (in_two.rc, in_235.rc) == (0, 1)


def test_list_shows_only_chkconfig_services_that_are_referenced(tmp_path: Path) -> None:
    *_, listed = chkconfig(tmp_path, "--add sshd", "--add ntpd", "--list")
    assert listed.out == off_line("ntpd") + "\n" + off_line("sshd", "2345") + "\n"


def test_reset_and_del(tmp_path: Path) -> None:
    _, _, reset, listed, deleted, gone, query, links = chkconfig(
        tmp_path,
        "--add sshd",
        "sshd off",
        "sshd reset",
        "--list sshd",
        "--del sshd",
        "--list sshd",
        "sshd",
        "!ls /etc/rc3.d",
    )
    assert reset.rc == 0
    assert listed.out == off_line("sshd", "2345") + "\n"
    assert deleted.rc == 0
    not_referenced = "service sshd supports chkconfig, but is not referenced in any runlevel "
    not_referenced += "(run 'chkconfig --add sshd')\n"
    assert (gone.rc, gone.err) == (1, not_referenced)
    assert (query.rc, query.err) == (1, not_referenced)
    assert links.out == ""


@pytest.mark.parametrize("args", ["nosuch on", "--list nosuch", "nosuch", "--add nosuch", "--del nosuch"])
def test_unknown_service(tmp_path: Path, args: str) -> None:
    (failed,) = chkconfig(tmp_path, args)
    assert (failed.rc, failed.out) == (1, "")
    assert failed.err == "error reading information on service nosuch: No such file or directory\n"


def test_script_without_header(tmp_path: Path) -> None:
    (failed,) = chkconfig(tmp_path, "debianish on")
    assert (failed.rc, failed.err) == (1, "service debianish does not support chkconfig\n")


@pytest.mark.parametrize("args", ["", "--bogus", "ntpd sideways", "--level 9 ntpd on", "--add"])
def test_usage_errors_exit_1(tmp_path: Path, args: str) -> None:
    (failed,) = chkconfig(tmp_path, args)
    assert failed.rc == 1
    assert "usage:   chkconfig [--list]" in failed.err
