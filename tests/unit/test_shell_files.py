"""The package's shell files: shellcheck-clean, shipped, and the wait scripts under every shell."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import runbook
from runbook.daemons.chrony import DRIVER as CHRONY
from runbook.daemons.drivers import DRIVERS
from runbook.daemons.timesyncd import DRIVER as TIMESYNCD
from runbook.shell import split_sections

PACKAGE = Path(runbook.__file__).parent
SHELL_FILES = sorted(PACKAGE.rglob("*.sh"))
SHELLS = ["dash", "bash", "busybox"]


def test_there_are_shell_files() -> None:
    names = {path.relative_to(PACKAGE).as_posix() for path in SHELL_FILES}
    assert {"shell/prelude.sh", "cron/fragment.sh", "daemons/services.sh", "facts/host.sh"} <= names
    assert {f"daemons/{driver.fragment}" for driver in DRIVERS} <= names


@pytest.mark.parametrize("path", SHELL_FILES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_shellcheck_finds_nothing(path: Path) -> None:
    done = subprocess.run(["shellcheck", "-s", "sh", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_package_data_ships_every_shell_file() -> None:
    text = (PACKAGE.parent / "pyproject.toml").read_text()
    folders = {path.parent.relative_to(PACKAGE).as_posix() for path in SHELL_FILES}
    assert all(f'"{folder}/*.sh"' in text for folder in folders)


def _tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def _run(shell: str, command: str, folder: Path) -> dict[str, str]:
    argv = ["busybox", "sh", "-c"] if shell == "busybox" else [shell, "-c"]
    env = {"PATH": f"{folder}:/usr/bin:/bin", "LC_ALL": "C"}
    done = subprocess.run([*argv, command], capture_output=True, text=True, env=env, timeout=30, check=True)
    return split_sections(done.stdout, "c0ffee")


@pytest.mark.parametrize("shell", SHELLS)
def test_chrony_wait_counts_the_tries_and_reads_tracking(shell: str, tmp_path: Path) -> None:
    _tool(
        tmp_path,
        "chronyc",
        'case "$1" in waitsync) echo "try: 1, refid: 00000000"; echo "try: 2, refid: 0ACD0001";;\n'
        '*) echo "Reference ID    : 0ACD0001 (10.205.0.1)"; echo "Leap status     : Normal"; '
        'echo "@@runbook:sync.chronyc@@";;\nesac\n',
    )
    sections = _run(shell, CHRONY.wait_command(3, "c0ffee"), tmp_path)
    assert sections["waited"] == "2" and sections["sync.chronyc.rc"] == "0"
    state = CHRONY.sync_state(sections)
    assert (state.synchronised, state.peer) == (True, "10.205.0.1")


@pytest.mark.parametrize("shell", SHELLS)
def test_timesyncd_wait_polls_until_synchronised(shell: str, tmp_path: Path) -> None:
    count = tmp_path / "count"
    _tool(
        tmp_path,
        "timedatectl",
        f"n=$(cat {count} 2>/dev/null || echo 0); echo $((n + 1)) >{count}\n"
        'if [ "$n" -ge 1 ]; then echo NTPSynchronized=yes; else echo NTPSynchronized=no; fi\n',
    )
    sections = _run(shell, TIMESYNCD.wait_command(5, "c0ffee"), tmp_path)
    assert sections["waited"] == "1" and TIMESYNCD.sync_state(sections).synchronised is True


def test_a_wait_answer_cannot_forge_a_section(tmp_path: Path) -> None:
    _tool(tmp_path, "timedatectl", "echo @@runbook:waited@@; echo NTPSynchronized=no\n")
    sections = _run("dash", TIMESYNCD.wait_command(0, "c0ffee"), tmp_path)
    assert sections["waited"] == "0" and TIMESYNCD.sync_state(sections).synchronised is False


def test_a_wait_token_that_is_not_hex_is_refused() -> None:
    with pytest.raises(ValueError, match="not hexadecimal"):
        CHRONY.wait_command(3, "$(id)")
