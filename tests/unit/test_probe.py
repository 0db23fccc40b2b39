"""The probe script: runs under dash and bash, quotes every setting, and its helper commands."""

from __future__ import annotations

import shlex
import subprocess
import time
from pathlib import Path

import pytest

from runbook.daemons.ntp import NTPD
from runbook.facts import parse_facts, parse_sync
from runbook.probe import clock_command, probe_arguments, probe_command, probe_script, split_sections
from runbook.settings import build_settings
from runbook.shell import read

SHELLS = ["dash", "bash", "busybox"]
"""Every shell the probe must run under (lab/install-deps.sh installs busybox)."""


def run(
    command: str, stdin: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["sh", "-c", command], check=False, input=stdin, capture_output=True, timeout=60, env=env
    )


@pytest.mark.host_clock
@pytest.mark.parametrize("shell", SHELLS)
def test_probe_script_runs_under_each_shell(shell: str) -> None:
    settings = build_settings({"backup": {"command": "b", "check_command": "exit 4"}})
    argv = [shell, "sh", "-c"] if shell == "busybox" else [shell, "-c"]
    done = subprocess.run(
        [*argv, probe_script(), "runbook-probe", *probe_arguments(settings, clock_loop=True)],
        input=b"\n\n",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    sections = split_sections(done.stdout.decode())
    clock_lines = sections["clock"].splitlines()
    assert clock_lines[0] in {"epochrealtime", "date"} and len(clock_lines) == 3
    assert {"hostname", "os", "init", "daemon.ntpd", "tools", "backup.check", "cron"} <= set(sections)
    assert sections["backup.check.rc"] == "4"
    facts = parse_facts(sections, settings.backup, None)
    assert facts.backup is not None and facts.backup.check_rc == 4


def test_without_the_clock_loop_stdin_is_not_read() -> None:
    done = run(probe_command(build_settings({}), clock_loop=False))
    assert done.returncode == 0 and "@@runbook:clock@@" not in done.stdout.decode()


def test_probe_reads_no_backup_without_a_backup() -> None:
    done = run(probe_command(build_settings({}), clock_loop=False))
    assert done.returncode == 0 and "@@runbook:backup." not in done.stdout.decode()


def test_clock_command() -> None:
    done = run("LC_ALL=C " + clock_command(4))
    lines = done.stdout.decode().splitlines()
    assert lines[:2] == ["@@runbook:clock@@", "date"] and len(lines) == 6


def test_settings_values_reach_the_script_as_arguments_only() -> None:
    hostile = "/tmp/a b;$(x)`y`'z\"\n"
    settings = build_settings({"backup": {"command": "b", "evidence_file": hostile, "check_command": "c"}})
    assert hostile in probe_arguments(settings, clock_loop=False)
    assert "rb_cat backup.file '/tmp/a b;$(x)`y`'\"'\"'z\"\n'" not in probe_script()
    assert shlex.quote(hostile) in probe_command(settings, clock_loop=False)


def fake_tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def test_sync_wait_polls_until_the_system_peer(tmp_path: Path) -> None:
    counter = tmp_path / "calls"
    fake_tool(
        tmp_path,
        "ntpq",
        f"n=$(cat {counter} 2>/dev/null || echo 0); echo $((n + 1)) > {counter}\n"
        'if [ "$n" -ge 2 ]; then t="*"; else t=" "; fi\n'
        'echo "     remote           refid      st t when poll reach   delay   offset  jitter"\n'
        'echo "=============================================================================="\n'
        'echo "${t}10.200.0.1      .LOCL.           1 u   12   64    1    0.123    0.456   0.012"\n',
    )
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    started = time.monotonic()
    done = run("LC_ALL=C " + NTPD.wait_command(10, "ab12"), env=env)
    sections = split_sections(done.stdout.decode(), "ab12")
    assert sections["waited"] == "2" and parse_sync(sections).peer == "10.200.0.1"
    assert 1.5 < time.monotonic() - started < 5


def test_sync_wait_gives_up(tmp_path: Path) -> None:
    fake_tool(tmp_path, "ntpstat", "echo unsynchronised; exit 1\n")
    done = run("LC_ALL=C " + NTPD.wait_command(1, ""), env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
    sections = split_sections(done.stdout.decode())
    assert sections["waited"] == "1" and parse_sync(sections).synchronised is False


def test_sync_wait_without_tools() -> None:
    done = run("LC_ALL=C " + NTPD.wait_command(5, ""), env={"PATH": "/nonexistent:/bin"})
    sections = split_sections(done.stdout.decode())
    assert sections["waited"] == "0" and "neither ntpq nor ntpstat" in sections["sync.none"]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(
    ("stdin", "scope"), [(b"\n\nboot\n", "boot"), (b"\n\nall\n", "all"), (b"\n\n", ""), (b"\n\n$(id)\n", "")]
)
def test_the_clock_loop_ends_at_the_scope_line(shell: str, stdin: bytes, scope: str) -> None:
    argv = [shell, "sh", "-c"] if shell == "busybox" else [shell, "-c"]
    script = read("runbook.shell", "probe_start.sh") + 'echo "scope=${rb_cron:-}"\n'
    done = subprocess.run(
        [*argv, script, "probe", "", "", "loop"], input=stdin, capture_output=True, timeout=30, check=True
    )
    lines = done.stdout.decode().splitlines()
    assert lines[0] == "@@runbook:clock@@" and len(lines) == 5 and lines[-1] == f"scope={scope}"


def test_without_a_clock_loop_the_cron_scope_is_the_argument() -> None:
    settings = build_settings({})
    assert probe_arguments(settings, clock_loop=False, cron="boot")[:3] == ("", "boot", "none")
    assert probe_arguments(settings, clock_loop=False)[:3] == ("", "all", "none")
    with pytest.raises(ValueError, match="cron scope"):
        probe_arguments(settings, clock_loop=False, cron="boot; rm -rf /")


@pytest.mark.parametrize("shell", SHELLS)
def test_evidence_and_ntpdate_flavour_read_alike_in_every_shell(shell: str, tmp_path: Path) -> None:
    evidence = tmp_path / "last success"
    evidence.write_text("started\n1503254047\n\n")
    missing = tmp_path / "gone"
    settings = build_settings({"backup": {"command": "b", "evidence_file": str(evidence)}})
    gone = build_settings({"backup": {"command": "b", "evidence_file": str(missing)}})
    argv = [shell, "sh", "-c"] if shell == "busybox" else [shell, "-c"]
    for flavour, body in (
        ("ntpsec", '#!/bin/sh\nexec ntpdig -s "$@"\n'),
        ("classic", "\x7fELF\x02\x01\x00binary"),
    ):
        tool = tmp_path / "bin" / "ntpdate"
        tool.parent.mkdir(exist_ok=True)
        tool.write_text(body)
        tool.chmod(0o755)
        env = {"PATH": f"{tool.parent}:/usr/bin:/bin", "LC_ALL": "C"}
        done = subprocess.run(
            [*argv, probe_script(), "probe", *probe_arguments(settings, clock_loop=False)],
            env=env,
            capture_output=True,
            timeout=60,
            check=True,
        )
        sections = split_sections(done.stdout.decode())
        assert sections["ntpdate"] == flavour
        assert sections["backup.file"] == "started\n1503254047" and sections["backup.file.rc"] == "0"
    done = subprocess.run(
        [*argv, probe_script(), "probe", *probe_arguments(gone, clock_loop=False)],
        env=env,
        capture_output=True,
        timeout=60,
        check=True,
    )
    sections = split_sections(done.stdout.decode())
    assert sections["backup.file.rc"] == "1" and "No such file" in sections["backup.file"]
