"""The cron schedule in a snapshot: jobs from the real cron fragment's output on a tree, kept in
the snapshot file (format 2; a format-1 file without it still compares), shown in its Markdown
view, and compared: a job gone is a warning naming it, a new one information."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest
from test_cron_fragment_live import SHELLS, root, run, stat, write

from runbook.record.redact import Redactor
from runbook.snapshot.compare import Level, cron_findings
from runbook.snapshot.cron import scheduled_jobs, unread
from runbook.snapshot.files import FORMAT, Snapshot, load_snapshot, write_snapshot
from runbook.snapshot.model import CronJob, HostState

__all__ = ["root"]  # the fixture, used by name

CRONTAB = (
    "SHELL=/bin/sh\n"
    "# m h dom mon dow user command\n"
    "17 *\t* * *\troot    cd / && run-parts --report {root}/etc/cron.hourly\n"
    "30 2 * * * root /usr/local/bin/backup --password=hunter2 /srv\n"
)


def test_jobs_come_from_the_fragment_with_run_parts_expanded(root: Path) -> None:
    paths = write(
        root,
        {
            "etc/crontab": CRONTAB.format(root=root).encode(),
            "etc/cron.d/php": b"09,39 * * * * root [ -x /usr/lib/php/clean ] && /usr/lib/php/clean\n",
            "var/spool/cron/crontabs/alice": b"@reboot /home/alice/start.sh\n",
            "etc/cron.hourly/rotate": b"#!/bin/sh\n",
            "etc/timezone": b"Europe/Berlin\n",
        },
        executable=("etc/cron.hourly/rotate",),
    )
    out, _ = run("dash", root, paths)
    assert not unread(out)
    jobs, unreadable = scheduled_jobs(out, "UTC", paths)
    assert unreadable == ()
    assert {(j.schedule, j.user, j.command) for j in jobs} == {
        ("17 * * * *", "root", f"{root}/etc/cron.hourly/rotate"),
        ("30 2 * * *", "root", "/usr/local/bin/backup --password=hunter2 /srv"),
        ("09,39 * * * *", "root", "[ -x /usr/lib/php/clean ] && /usr/lib/php/clean"),
        ("@reboot", "alice", "/home/alice/start.sh"),
    }


@pytest.mark.host_clock
@pytest.mark.parametrize("shell", SHELLS)
def test_a_crontab_longer_than_the_text_read_says_it_was_cut(shell: str, root: Path) -> None:
    """The probe's ``jobs`` scope reads at most max_bytes / 64 lines of each file (10 here):
    the jobs after them are not in the snapshot, and the caller is told so."""
    lines = [f"{minute} 1 * * * root /bin/job{minute}\n" for minute in range(12)]
    paths = write(root, {"etc/crontab": "".join(lines).encode(), "proc/stat": stat(time.time() - 40 * 86400)})
    paths = replace(paths, max_bytes=640)
    out, _ = run(shell, root, paths, scope="jobs")
    jobs, unreadable = scheduled_jobs(out, "UTC", paths)
    assert sorted(job.command for job in jobs) == sorted(f"/bin/job{minute}" for minute in range(10))
    assert unreadable == (f"{paths.crontab}: only its first 10 lines read (max_bytes / 64), not the rest",)
    write(root, {"etc/crontab": "".join(lines[:10]).encode()})  # exactly the limit: all of it
    jobs, unreadable = scheduled_jobs(run(shell, root, paths, scope="jobs")[0], "UTC", paths)
    assert len(jobs) == 10 and unreadable == ()


def test_the_probe_scope_boot_leaves_them_unread(root: Path) -> None:
    paths = write(root, {"etc/crontab": CRONTAB.encode(), "proc/stat": b"btime 1000\n"})
    out, _ = run("dash", root, paths, scope="boot")
    assert unread(out)


def test_a_job_gone_is_a_warning_naming_it_a_new_one_information() -> None:
    kept = CronJob("*/5 * * * *", "root", "/usr/bin/check", "/etc/crontab")
    gone = CronJob("30 2 * * *", "root", "/usr/local/bin/backup --password=*** /srv", "/etc/crontab")
    new = CronJob("0 3 * * *", "root", "/usr/local/bin/old-backup", "/etc/crontab")
    moved = CronJob("*/5 * * * *", "root", "/usr/bin/check", "/etc/cron.d/check")  # same job, other file
    found = cron_findings([kept, gone], [moved, new])
    assert [(f.kind, f.level, f.subject, f.before, f.now) for f in found] == [
        (
            "cron",
            Level.WARNING,
            "30 2 * * * /usr/local/bin/backup --password=*** /srv (root)",
            "scheduled",
            "gone",
        ),
        ("cron", Level.INFO, "0 3 * * * /usr/local/bin/old-backup (root)", "", "scheduled"),
    ]
    assert (
        found[0].message
        == "cron job 30 2 * * * /usr/local/bin/backup --password=*** /srv (root) is no longer scheduled"
    )
    assert cron_findings([kept], [kept]) == []


def _snapshot(cron: tuple[CronJob, ...] | None) -> Snapshot:
    return Snapshot("web1", "web1", 1_800_000_000.0, HostState(init="sysv"), cron=cron)


def test_kept_masked_in_the_file_and_shown_in_its_markdown(tmp_path: Path) -> None:
    job = CronJob("30 2 * * *", "root", "backup --password=hunter2 `date +%F`", "/etc/crontab")
    json_path, md_path = write_snapshot(tmp_path, _snapshot((job,)).to_dict(), Redactor())
    data = json.loads(json_path.read_text())
    assert data["format"] == FORMAT == 2
    assert data["cron"] == [
        {
            "schedule": "30 2 * * *",
            "user": "root",
            "command": "backup --password=*** `date +%F`",
            "source": "/etc/crontab",
        }
    ]
    assert "hunter2" not in md_path.read_text()
    shown = "- **Cron schedule (1):**\n  - `30 2 * * *` root: `` backup --password=*** `date +%F` ``"
    assert f"{shown} (/etc/crontab)" in md_path.read_text()
    assert load_snapshot(json_path, "web1").cron == (
        CronJob("30 2 * * *", "root", "backup --password=*** `date +%F`", "/etc/crontab"),
    )


def test_a_format_1_snapshot_without_cron_still_loads(tmp_path: Path) -> None:
    json_path, md_path = write_snapshot(tmp_path, _snapshot(None).to_dict(), Redactor())
    data = json.loads(json_path.read_text())
    assert "- **Cron schedule:** not read" in md_path.read_text()
    data["format"] = 1
    del data["cron"]
    json_path.write_text(json.dumps(data))
    loaded = load_snapshot(json_path, "web1")
    assert loaded.cron is None and loaded.state.init == "sysv"
