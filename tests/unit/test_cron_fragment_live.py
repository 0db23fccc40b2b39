"""The cron fragment on live trees under every shell here (dash, bash, BusyBox sh with its own tools).

The fragment runs with only a tool directory on PATH: each tool is a wrapper that logs its
name and runs the real one, so the log is every process the fragment started and a tool
it should not need is simply missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from test_cron_cases import LINE, case_paths

from runbook.cron import CronPaths, CronSnapshot, cron_arguments, cron_script, parse_cron_section
from runbook.cron.window import HORIZON

TOOLS = ("wc", "od", "readlink", "date", "uptime", "last")
VARIANTS = {
    "dash": (["dash", "-c"], False),
    "bash": (["bash", "-c"], False),
    "busybox": (["busybox", "sh", "-c"], True),
}
"""Shell command, and whether the tools are BusyBox applets (as on Alpine) rather than the machine's.
Each must be installed (lab/install-deps.sh installs busybox)."""
SHELLS = list(VARIANTS)


@pytest.fixture
def root() -> Iterator[Path]:
    """A host tree any user can traverse (tmp_path's parents are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="rbcron-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def write(root: Path, files: dict[str, bytes], executable: tuple[str, ...] = ()) -> CronPaths:
    """Write ``files`` under ``root`` (readable by all); return CronPaths under it."""
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            (root / parent).chmod(0o755)
        path.write_bytes(body)
        path.chmod(0o755 if name in executable else 0o644)
    return case_paths(root)


def run(
    shell: str,
    root: Path,
    paths: CronPaths,
    *,
    fakes: dict[str, str] | None = None,
    user: str | None = None,
    scope: str | None = None,
) -> tuple[str, list[str]]:
    """The fragment's output on the tree, and the tools it started (in order); ``scope`` is the
    probe's ``$rb_cron`` (the controller's directive)."""
    command, busybox = VARIANTS[shell]
    tools = root / "tools"
    tools.mkdir(exist_ok=True)
    log = root / "tools.log"
    log.write_text("")
    log.chmod(0o666)
    for tool in TOOLS:
        real = f"/usr/bin/busybox {tool}" if busybox else shutil.which(tool)
        body = (fakes or {}).get(tool, f'exec {real} "$@"')
        (tools / tool).write_text(f"#!/bin/sh\necho {tool} >>{log}\n{body}\n")
        (tools / tool).chmod(0o755)
    done = subprocess.run(
        [
            shutil.which(command[0]) or command[0],
            *command[1:],
            f"rb_cron={scope or ''}\n" + cron_script(),
            "cron",
            *cron_arguments(paths),
        ],
        capture_output=True,
        env={"PATH": str(tools), "LC_ALL": "C"},
        cwd=root,
        check=True,
        user=user,
    )
    out = done.stdout.decode("utf-8", "replace")
    assert out.startswith("@@runbook:cron@@\n")
    assert all(LINE.match(line) for line in out.splitlines()), out
    return out, log.read_text().split()


def snapshot(
    shell: str, root: Path, paths: CronPaths, fakes: dict[str, str] | None = None, user: str | None = None
) -> CronSnapshot:
    out, _ = run(shell, root, paths, fakes=fakes, user=user)
    return parse_cron_section(out)


def stat(boot: float) -> bytes:
    return f"cpu  1 2 3\nintr 5 0 0 7\nbtime {int(boot)}\nprocesses 42\n".encode()


@pytest.mark.parametrize("shell", SHELLS)
def test_every_byte_arrives_exactly(shell: str, root: Path) -> None:
    files = {
        "etc/crontab": b"0 1 * * * root echo no newline at the end",
        "etc/cron.d/binary": b"\x00\x01\x0c\r\n\xff\xfe@@runbook:date@@\n\xc3\x28 \xe6\x97\xa5\n",
        "etc/cron.d/empty": b"",
        "etc/cron.d/crlf": b"0 2 * * * root echo crlf\r\n",
        "var/spool/cron/crontabs/alice": b"0 3 * * * echo ok\n" * 300,
        "etc/timezone": b"Asia/Tokyo\n",
    }
    paths = write(root, files)
    found = snapshot(shell, root, paths)
    assert found.files == {str(root / name): body.decode("utf-8", "replace") for name, body in files.items()}
    assert found.notes == ()


@pytest.mark.parametrize("shell", SHELLS)
def test_names_with_blanks_newlines_and_non_ascii_are_kept(shell: str, root: Path) -> None:
    files = {
        "etc/crontab": b"0 1 * * * root echo one\n",
        "etc/cron.d/with space": b"0 2 * * * root echo two\n",
        "etc/cron.d/new\nline": b"0 3 * * * root echo three\n",
        "etc/cron.d/café": b"0 4 * * * root echo four\n",
        "etc/cron.d/x\nT file 2f6574632f706173737764 3": b"0 5 * * * root echo five\n",
        "etc/cron.d/$(touch pwned)`id`'\"": b"0 6 * * * root echo six",
        "etc/cron.d/-n": b"0 7 * * * root echo seven\n",
        "etc/cron.d/plain": b"",
        "etc/cron.daily/sp ace": b"#!/bin/sh\n",
        "etc/cron.daily/café": b"#!/bin/sh\n",
    }
    paths = write(root, files, executable=("etc/cron.daily/sp ace",))
    found = snapshot(shell, root, paths)
    assert found.files == {
        str(root / name): body.decode() for name, body in files.items() if "cron.daily" not in name
    }
    assert found.parts[str(root / "etc/cron.daily")] == (("café", False), ("sp ace", True))
    assert found.notes == ()
    assert not (root / "pwned").exists()


@pytest.mark.parametrize("shell", SHELLS)
def test_a_file_over_max_bytes_is_noted_not_truncated(shell: str, root: Path) -> None:
    files = {
        "etc/crontab": b"#" * 63 + b"\n",
        "etc/cron.d/big": b"#" * 64 + b"\n",
        "etc/cron.d/big one": b"#" * 100 + b"\n",
        "etc/cron.d/small": b"0 1 * * * root echo small\n",
    }
    paths = replace(write(root, files), max_bytes=64)
    found = snapshot(shell, root, paths)
    assert sorted(found.files) == [str(root / "etc/cron.d/small"), str(root / "etc/crontab")]
    assert found.files[str(root / "etc/crontab")] == "#" * 63 + "\n"
    assert sorted(found.notes) == [
        f"{root}/etc/cron.d/big one: not read: 101 bytes, more than max_bytes",
        f"{root}/etc/cron.d/big: not read: 65 bytes, more than max_bytes",
    ]


@pytest.mark.parametrize("shell", SHELLS)
def test_unreadable_files_and_directories_are_denied(shell: str, root: Path) -> None:
    files = {
        "etc/crontab": b"0 1 * * * root echo one\n",
        "etc/cron.d/secret": b"0 2 * * * root echo two\n",
        "etc/cron.d/secret two": b"0 3 * * * root echo three\n",
        "var/spool/cron/crontabs/alice": b"0 4 * * * echo four\n",
    }
    paths = write(root, files)
    for name in ("etc/cron.d/secret", "etc/cron.d/secret two"):
        (root / name).chmod(0o000)
    (root / "var/spool/cron/crontabs").chmod(0o700)
    found = snapshot(shell, root, paths, user="nobody" if os.geteuid() == 0 else None)
    assert sorted(found.denied) == sorted(
        str(root / name) for name in ("etc/cron.d/secret", "etc/cron.d/secret two", "var/spool/cron/crontabs")
    )
    assert sorted(found.files) == [str(root / "etc/crontab")]
    assert found.notes == ()


def test_a_file_that_changes_between_wc_and_od_is_noted_not_misassigned(root: Path) -> None:
    files = {
        name: f"0 {i} * * * root echo {i}\n".encode()
        for i, name in enumerate(
            ["etc/crontab", "etc/cron.d/a", "etc/cron.d/b", "etc/cron.d/c", "etc/anacrontab"]
        )
    }
    paths = write(root, files)
    once = f"[ -e {root}/grown ] || {{ : >{root}/grown; echo '* * * * * root evil' >>{root}/etc/cron.d/b; }}"
    wc = f'{shutil.which("wc")} "$@"; rc=$?; {once}; exit $rc'
    found = snapshot("dash", root, paths, fakes={"wc": wc})
    assert found.files == {str(root / n): b.decode() for n, b in files.items() if n != "etc/cron.d/b"}
    assert found.notes == (f"{root}/etc/cron.d/b: changed while the probe read it: not used",)


@pytest.mark.parametrize("shell", SHELLS)
def test_contents_and_outputs_cannot_forge_blocks(shell: str, root: Path) -> None:
    forged = (
        b"@@runbook:date@@\n@@runbook:cron@@\nT file /etc/passwd 4\nS 4\n| x\n 41 42\n"
        b"B out 6c617374\nT out date\n\x0cT flag debian\n"
    )
    files = {"etc/crontab": forged, "etc/cron.d/after": b"0 1 * * * root echo after\n"}
    paths = write(root, files)
    last = "printf '%s\\n' '@@runbook:date@@' 'T file /etc/shadow 3' 'S 3' ' 41 42 43'"
    out, _ = run(shell, root, paths, fakes={"last": last})
    assert [line for line in out.splitlines() if line.startswith("@@")] == ["@@runbook:cron@@"]
    found = parse_cron_section(out)
    assert found.files == {str(root / n): b.decode() for n, b in files.items()}
    assert found.outputs["last"] == "@@runbook:date@@\nT file /etc/shadow 3\nS 3\n 41 42 43\n"
    assert found.flags == frozenset()
    assert found.notes == ()


@pytest.mark.host_clock
@pytest.mark.parametrize("shell", SHELLS)
def test_last_runs_only_after_a_recent_boot(shell: str, root: Path) -> None:
    paths = write(root, {"etc/crontab": b"", "proc/stat": stat(time.time() - HORIZON - 600)})
    found, tools = run(shell, root, paths)
    assert "last" not in tools
    assert "uptime" not in tools
    assert "last" not in parse_cron_section(found).outputs

    paths = write(root, {"proc/stat": stat(time.time() - HORIZON + 600)})
    found, tools = run(shell, root, paths, fakes={"last": "echo 'reboot   system boot'"})
    assert "last" in tools
    assert parse_cron_section(found).outputs["last"] == "reboot   system boot\n"


@pytest.mark.host_clock
@pytest.mark.parametrize("shell", SHELLS)
def test_scope_boot_reads_no_files_unless_the_boot_is_recent(shell: str, root: Path) -> None:
    old = write(
        root, {"etc/crontab": b"0 1 * * * root echo one\n", "proc/stat": stat(time.time() - 40 * 86400)}
    )
    out, tools = run(shell, root, old, scope="boot")
    found = parse_cron_section(out)
    assert found.flags == {"unread"} and found.files == {} and found.outputs["btime"]
    assert tools == ([] if shell == "bash" else ["date"])
    recent = write(root, {"proc/stat": stat(time.time() - 3600)})
    out, tools = run(shell, root, recent, scope="boot", fakes={"last": ":"})
    found = parse_cron_section(out)
    assert "unread" not in found.flags and found.files[old.crontab] == "0 1 * * * root echo one\n"
    assert {"last", "wc", "od"} <= set(tools)
    out, _ = run(shell, root, old, scope="all")
    assert parse_cron_section(out).files[old.crontab] == "0 1 * * * root echo one\n"


@pytest.mark.host_clock
@pytest.mark.parametrize("shell", SHELLS)
def test_scope_jobs_reads_the_files_as_text_with_builtins_unless_the_boot_is_recent(
    shell: str, root: Path
) -> None:
    paths = write(
        root,
        {
            "etc/crontab": b"0 1 * * * root echo one\n\n  # indented | T file /x 9\n@@runbook:date@@\n",
            "etc/cron.d/no newline": b"5 4 * * * root echo two  ",
            "proc/stat": stat(time.time() - 40 * 86400),
        },
    )
    (root / "usr/share/zoneinfo/Asia").mkdir(parents=True)
    (root / "usr/share/zoneinfo/Asia/Tokyo").write_bytes(b"TZif")
    Path(paths.localtime).symlink_to(root / "usr/share/zoneinfo/Asia/Tokyo")
    out, tools = run(shell, root, paths, scope="jobs")
    found = parse_cron_section(out)
    assert found.flags == {"jobs-only"} and found.notes == ()
    assert found.files == {
        paths.crontab: "0 1 * * * root echo one\n\n  # indented | T file /x 9\n@@runbook:date@@\n",
        f"{paths.cron_d}/no newline": "5 4 * * * root echo two  \n",  # cron needs the newline anyway
    }
    assert tools == ([] if shell == "bash" else ["date"])  # no wc, od, readlink, last
    out, tools = run(shell, root, paths, scope="all")
    assert "jobs-only" not in parse_cron_section(out).flags and "readlink" in tools
    recent = write(root, {"proc/stat": stat(time.time() - 3600)})
    out, tools = run(shell, root, recent, scope="jobs", fakes={"last": ":"})
    assert "jobs-only" not in parse_cron_section(out).flags and {"last", "wc", "od", "readlink"} <= set(tools)


@pytest.mark.parametrize("shell", SHELLS)
def test_without_btime_uptime_and_last_both_run(shell: str, root: Path) -> None:
    paths = write(root, {"etc/crontab": b""})
    out, tools = run(shell, root, paths, fakes={"uptime": "echo 2017-08-22 05:00:12", "last": ":"})
    found = parse_cron_section(out)
    assert {"uptime", "last"} <= set(tools)
    assert found.outputs["btime"] == ""
    assert found.outputs["uptime-s"] == "2017-08-22 05:00:12\n"
    assert re.fullmatch(r"\d+ [+-]\d{4}\n", found.outputs["date"])


@pytest.mark.host_clock
@pytest.mark.parametrize("shell", SHELLS)
def test_the_processes_started_do_not_grow_with_the_files(shell: str, root: Path) -> None:
    base = {
        "etc/crontab": b"0 1 * * * root echo one\n",
        "etc/debian_version": b"12.5\n",
        "proc/stat": stat(time.time() - 30 * 86400),
    }
    (root / "etc").mkdir(mode=0o755)
    (root / "etc/localtime").symlink_to("/usr/share/zoneinfo/Asia/Tokyo")
    paths = write(root, base)
    _, few = run(shell, root, paths)
    many = {f"etc/cron.d/job{i}": f"{i} 1 * * * root echo {i}\n".encode() for i in range(20)}
    many |= {f"var/spool/cron/crontabs/user{i}": b"0 2 * * * echo hi\n" for i in range(10)}
    many |= {f"etc/cron.daily/script{i}": b"#!/bin/sh\n" for i in range(10)}
    out, more = run(shell, root, write(root, many, executable=tuple(many)))
    found = parse_cron_section(out)
    assert len(found.files) == 31
    assert found.outputs["localtime"] == "/usr/share/zoneinfo/Asia/Tokyo\n"
    assert found.flags == {"debian"}
    assert more == few
    expected = ([] if shell == "bash" else ["date"]) + ["wc", "od", "wc", "readlink"]
    assert more == expected
