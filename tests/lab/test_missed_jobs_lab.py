"""Missed cron jobs end to end: the real CLI over real OpenSSH on centos6 lab hosts.

The centos6 profile seeds, relative to the moment the host is prepared: the nightly backup
2 h 50 min before (it leaves evidence in /var/lib/backup and /var/log/backup.log), a CRON_TZ
Asia/Tokyo report 1 h 30 min before, admin's user crontab job 40 min before, a job 5 h
before (outside the ~3 h window), CentOS 6's hourly run-parts (0anacron) and anacron's
cron.daily, last run yesterday. The window given on the command line is the 3 h before real
now, which is what the host's fake clock lags by.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from test_post_maint import ROOT, host_record, post_maint, steps_of

from lab import Lab, LabHost

pytestmark = pytest.mark.lab

DUE = {
    "/etc/cron.hourly/0anacron",
    "/usr/local/bin/backup.sh",
    "/usr/local/bin/sales-report",
    "/usr/local/bin/sync-reports",
}
BACKUP = "/usr/local/bin/backup.sh"
SYNC = "/usr/local/bin/sync-reports"
TOKYO = ZoneInfo("Asia/Tokyo")


def window_by_name() -> str:
    """The 3 h before now, whole minutes around it, written with a zone name."""
    start, end = _bounds()
    return f"{start:%Y-%m-%d %H:%M}..{end:%Y-%m-%d %H:%M} Asia/Tokyo"


def window_by_offset() -> str:
    """The same window in ISO 8601 with the +09:00 offset."""
    start, end = _bounds()
    return f"{start.isoformat(timespec='minutes')}..{end.isoformat(timespec='minutes')}"


def _bounds() -> tuple[datetime, datetime]:
    now = datetime.fromtimestamp(time.time(), TOKYO).replace(second=0, microsecond=0)
    return now - timedelta(hours=3), now + timedelta(minutes=1)


def missed(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The missed_jobs step's due jobs by command."""
    return {job["command"]: job for job in steps_of(record)["missed_jobs"]["data"]["missed"]}


def markdown(records: Path, host: str) -> str:
    return sorted(records.glob(f"{host}-*.md"))[-1].read_text()


def backup_runs(host: LabHost) -> int:
    """How many times the backup has finished on the host (its log's lines)."""
    return int(host.run("grep -c 'backup finished OK' /var/log/backup.log").stdout)


def post_maint_without_backup(
    lab: Lab, folder: Path, host: str, extra: tuple[str, ...]
) -> subprocess.CompletedProcess[str]:
    """post-maint with the lab's config minus its backup, so only missed_jobs can rerun the backup."""
    config = yaml.safe_load(lab.layout.runbook_yaml.read_text())
    del config["runbook"]["backup"]
    path = folder / "runbook.yaml"
    path.write_text(yaml.safe_dump(config))
    argv = [sys.executable, "-m", "invoke", "-r", str(ROOT), "-f", str(path), "post-maint", "--host", host]
    argv += ["--record-dir", str(folder / "records"), *extra]
    return subprocess.run(argv, capture_output=True, text=True, timeout=240, check=False)


def test_window_given_lists_the_due_jobs_and_reruns_only_the_backup(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host()
    before = backup_runs(host)
    extra = ("--window", window_by_name(), "--rerun", "backup")
    done = post_maint_without_backup(lab, tmp_path, host.name, extra)
    records = tmp_path / "records"
    assert done.returncode == 0, done.stdout + done.stderr
    record = host_record(records, host.name)
    step = steps_of(record)["missed_jobs"]
    assert step["outcome"] == "changed"
    assert step["data"]["window"]["source"] == "given"
    jobs = missed(record)
    assert set(jobs) == DUE  # the 5 h old archive-logs job is outside the window
    assert [command for command, job in jobs.items() if job["selected"]] == [BACKUP]
    assert jobs[BACKUP]["rerun"]["state"] == "ran"
    assert jobs[BACKUP]["rerun"]["exit_code"] == 0
    assert jobs[BACKUP]["rerun"]["tail"] == [jobs[BACKUP]["rerun"]["tail"][-1]]
    assert jobs["/usr/local/bin/sales-report"]["tz"] == "Asia/Tokyo"
    assert jobs[SYNC]["user"] == "admin"
    anacron = {job["command"]: job["due"] for job in step["data"]["anacron"]}
    assert anacron == {"/etc/cron.daily/logrotate": True, "/etc/cron.daily/mlocate.cron": True}

    # only the backup ran on the host, once
    assert backup_runs(host) == before + 1
    evidence = host.run("cat /var/lib/backup/last-success; date +%s").stdout.split()
    assert abs(float(evidence[1]) - float(evidence[0])) < 300
    assert host.run("ls /var/lib/reports /home/admin/sync-reports.last").returncode != 0

    text = markdown(records, host.name)
    assert "## Missed cron jobs" in text
    assert "| 4 due, 1 rerun, 3 not rerun |" in text
    assert "| /etc/cron.d/backup:2 | `" in text and "| rerun: exit 0 in " in text
    assert "(CRON_TZ=Asia/Tokyo)" in text
    assert "archive-logs" not in text.split("## Details")[0]
    assert "- 4 cron jobs were due in the maintenance window and did not run." in text


def test_backup_step_reran_it_first_so_it_runs_once(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host()
    before = backup_runs(host)
    extra = ("--window", window_by_offset(), "--rerun", "backup", "--rerun", "sync-reports")
    done = post_maint(lab, tmp_path, host.name, extra=extra)
    assert done.returncode == 0, done.stdout + done.stderr
    record = host_record(tmp_path, host.name)
    assert steps_of(record)["rerun_backup"]["data"]["rerun"] is True
    jobs = missed(record)
    assert set(jobs) == DUE
    assert jobs[BACKUP]["rerun"]["state"] == "by_backup"
    assert jobs[SYNC]["rerun"]["state"] == "ran"
    assert backup_runs(host) == before + 1

    # the user crontab's job ran as admin, with cron's environment, from admin's home
    lines = host.run("cat /home/admin/sync-reports.last").stdout.splitlines()
    seen = dict(line.split("=", 1) for line in lines)
    assert seen["user"] == "admin"
    assert seen["home"] == "/home/admin"
    assert seen["pwd"] == "/home/admin"
    assert seen["shell"] == "/bin/sh"
    assert seen["path"] == "/usr/bin:/bin"
    assert seen["mailto"] == "admin"
    assert abs(int(seen["finished"]) - time.time()) < 300  # the host's clock was fixed first

    text = markdown(tmp_path, host.name)
    assert "| rerun by the backup step |" in text
    assert "| 4 due, 2 rerun, 2 not rerun |" in text


def test_dry_run_reruns_nothing(lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path) -> None:
    host = lab_host()
    before = backup_runs(host)
    extra = ("--dry-run", "--window", window_by_name(), "--rerun", "backup", "--rerun", "sync-reports")
    done = post_maint(lab, tmp_path, host.name, extra=extra)
    assert done.returncode == 0, done.stdout + done.stderr
    record = host_record(tmp_path, host.name)
    step = steps_of(record)["missed_jobs"]
    assert step["dry_run"] is True
    assert "would rerun 2" in step["message"]
    assert {job["rerun"]["state"] for job in missed(record).values() if job["selected"]} == {"would"}
    assert backup_runs(host) == before
    assert host.run("test -e /home/admin/sync-reports.last").returncode == 1
    text = markdown(tmp_path, host.name)
    assert "| would rerun (dry run) |" in text
    assert "rerun them:" not in text  # a dry run leaves nothing to rerun by hand


def test_inferred_window_is_shown_with_its_source(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host()
    done = post_maint(lab, tmp_path, host.name)
    assert done.returncode == 0, done.stdout + done.stderr
    record = host_record(tmp_path, host.name)
    window = steps_of(record)["missed_jobs"]["data"]["window"]
    assert window["source"] == "inferred from the 3 h clock lag"
    start, end = (datetime.fromisoformat(window[key]).timestamp() for key in ("start", "end"))
    assert end - start == pytest.approx(3 * 3600 + 300, abs=5)
    assert abs(end - time.time()) < 300
    assert set(missed(record)) == DUE
    text = markdown(tmp_path, host.name)
    header = text.split("## Summary")[0]
    assert "| Clock gap |" in header and "; inferred from the 3 h clock lag |" in header
    assert "Maintenance window" not in text
    assert "— clock gap, inferred from the 3 h clock lag" in text


def test_with_backup_and_without_rerun_one_truth_and_a_command_that_reruns_the_rest(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    """--backup (the lab's config) and no --rerun: the backup's own cron job shows as rerun by the
    backup step everywhere; the rest are left with a command line, which reruns exactly them."""
    host = lab_host()
    before = backup_runs(host)
    done = post_maint(lab, tmp_path / "first", host.name)
    assert done.returncode == 0, done.stdout + done.stderr
    record = host_record(tmp_path / "first", host.name)
    assert missed(record)[BACKUP]["rerun"]["state"] == "by_backup"
    text = markdown(tmp_path / "first", host.name)
    assert "not selected" not in text
    assert "| rerun by the backup step |" in text and "| 4 due, 1 rerun, 3 not rerun |" in text
    assert "- 1 missed cron job was the backup, rerun by the backup step." in text
    (left,) = [item for item in record["summary"]["left"] if item["command"]]
    assert left["text"].startswith("3 missed cron jobs were not rerun (")
    words = shlex.split(left["command"])
    assert words[:4] == ["runbook", "post-maint", "--host", host.name]
    reruns = sorted(words[i + 1] for i, word in enumerate(words) if word == "--rerun")
    assert reruns == sorted(DUE - {BACKUP})

    again = post_maint(lab, tmp_path / "again", host.name, extra=tuple(words[4:]))
    assert backup_runs(host) == before + 1  # the backup ran once, in the first run
    second_record = host_record(tmp_path / "again", host.name)
    second = missed(second_record)
    assert not any(BACKUP in item["text"] for item in second_record["summary"]["left"])  # it is fresh now
    assert {command for command, job in second.items() if job["selected"]} == DUE - {BACKUP}
    assert {command: second[command]["rerun"]["state"] for command in DUE - {BACKUP}} == dict.fromkeys(
        DUE - {BACKUP}, "ran"
    )
    assert second[SYNC]["rerun"]["exit_code"] == 0
    assert second["/usr/local/bin/sales-report"]["rerun"]["exit_code"] == 0
    assert host.run("test -e /home/admin/sync-reports.last").returncode == 0
    # the lab image has no anacron binary, so its hourly wrapper exits 127 and that step fails
    anacron = second["/etc/cron.hourly/0anacron"]["rerun"]["exit_code"]
    assert again.returncode == (0 if anacron == 0 else 1), again.stdout + again.stderr
