"""Before and after, over real OpenSSH on centos6 lab hosts: pre-maint's snapshot, then a
maintenance that stops a service, closes its socket, unmounts a tmpfs and changes an operator
command's output; post-maint names each, --restore starts the service, a second run is clean.
Bad snapshots (damaged, newer format, another host's) skip compare with one line.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from offline_names import files_only_resolution
from record_files import newest_last

from lab import Lab, LabHost

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.lab
OPERATOR = "cat /etc/lab-replication"


def runbook(
    lab: Lab, records: Path, command: str, host: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "invoke", "-r", str(ROOT), "-f", str(lab.layout.runbook_yaml), command]
    argv += ["--host", host, "--record-dir", str(records), *extra]
    records.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        files_only_resolution(argv, records), capture_output=True, text=True, timeout=240, check=False
    )


def compare_result(records: Path, host: str) -> dict[str, Any]:
    newest = sorted(records.glob(f"{host}-2*.json"), key=newest_last)[-1]
    record = json.loads(newest.read_text())
    found: dict[str, Any] = next(r for r in record["results"] if r["step"] == "compare")
    return found


def findings(result: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["kind"], f["level"], f["subject"]) for f in result["data"]["findings"]}


def test_snapshot_then_broken_services_sockets_mounts_named_and_restored(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host(offset="0", daemon="running")
    host.run("mkdir -p /mnt/data && mount -t tmpfs -o size=4m tmpfs /mnt/data", check=True)
    host.run("echo 'replication: ok, lag 0' >/etc/lab-replication", check=True)

    taken = runbook(lab, tmp_path, "pre-maint", host.name, "--command", OPERATOR)
    assert taken.returncode == 0, taken.stdout + taken.stderr
    [snapshot] = tmp_path.glob(f"{host.name}-before-*.json")
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o600
    assert snapshot.with_suffix(".md").is_file()
    state = json.loads(snapshot.read_text())["state"]
    assert state["services"]["httpd"]["running"] is True
    assert any(s["port"] == 80 and s["proto"] == "tcp" for s in state["sockets"])
    assert any(m["target"] == "/mnt/data" and m["fstype"] == "tmpfs" for m in state["mounts"])
    assert state["outputs"][0]["text"] == "replication: ok, lag 0"

    host.run("/sbin/service httpd stop; umount /mnt/data; echo 'replication: broken' >/etc/lab-replication")
    after = runbook(lab, tmp_path, "post-maint", host.name, "--skip", "rerun_backup")
    assert after.returncode == 1
    result = compare_result(tmp_path, host.name)
    assert result["outcome"] == "failed"
    assert findings(result) >= {
        ("service", "failure", "httpd"),
        ("socket", "failure", "tcp 0.0.0.0:80 (httpd)"),
        ("mount", "failure", "/mnt/data"),
        ("command", "warning", OPERATOR),
    }
    record = sorted(tmp_path.glob(f"{host.name}-2*.md"), key=newest_last)[-1].read_text()
    assert "## Since before the maintenance" in record
    assert f"| warning | command | {OPERATOR} |" in record  # in the section's table ...
    assert "- Warning:" not in record  # ... and not again as the compare step's warnings
    assert "| **FAILED** | service | httpd | running | → stopped |" in record
    assert "httpd ran before and is stopped now" in record.split("## Summary")[1].split("## Steps")[0]

    dry = runbook(lab, tmp_path, "post-maint", host.name, "--only", "compare", "--restore", "--dry-run")
    assert "would start httpd" in compare_result(tmp_path, host.name)["message"], dry.stdout
    assert host.run("/sbin/service httpd status").returncode != 0

    runbook(lab, tmp_path, "post-maint", host.name, "--only", "compare", "--restore")
    restored = compare_result(tmp_path, host.name)
    assert restored["data"]["restored"] == ["started httpd"]
    assert host.run("/sbin/service httpd status").returncode == 0
    assert ("service", "failure", "httpd") not in findings(restored)
    assert ("service", "failure", "httpd") in findings({"data": {"findings": restored["data"]["found"]}})
    record = sorted(tmp_path.glob(f"{host.name}-2*.md"), key=newest_last)[-1].read_text()
    summary, since = record.split("## Steps")[0], record.split("## Since before the maintenance")[1]
    assert "| **FAILED** | service | httpd | running | → stopped (fixed by --restore) |" in since
    assert "problems appeared since the snapshot taken before the maintenance" in summary
    assert "- Started httpd again: it ran before the maintenance." in summary

    host.run("mount -t tmpfs -o size=4m tmpfs /mnt/data; echo 'replication: ok, lag 0' >/etc/lab-replication")
    again = runbook(lab, tmp_path, "post-maint", host.name, "--skip", "rerun_backup")
    clean = compare_result(tmp_path, host.name)
    assert clean["outcome"] == "ok", again.stdout
    assert clean["data"]["findings"] == []
    host.run("umount /mnt/data; rm -f /etc/lab-replication")


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        ("{not json", "is damaged (not JSON"),
        ('{"kind": "runbook-snapshot", "format": 99, "host": "HOST"}', "has format 99, newer than"),
        ('{"kind": "runbook-snapshot", "format": 1, "host": "elsewhere"}', "is of host 'elsewhere'"),
    ],
)
def test_a_bad_snapshot_skips_compare_with_one_line(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path, damage: str, said: str
) -> None:
    host = lab_host(offset="0", daemon="running")
    bad = tmp_path / f"{host.name}-before-29991231T000000Z.json"
    tmp_path.mkdir(exist_ok=True)
    bad.write_text(damage.replace("HOST", host.name))
    done = runbook(lab, tmp_path, "post-maint", host.name, "--skip", "rerun_backup")
    result = compare_result(tmp_path, host.name)
    assert result["outcome"] == "skipped"
    assert said in result["message"] and "\n" not in result["message"]
    assert done.returncode == 0, done.stdout + done.stderr
    record = sorted(tmp_path.glob(f"{host.name}-2*.md"), key=newest_last)[-1].read_text()
    assert f"Not compared: snapshot {bad}" in record


@pytest.mark.parametrize(
    ("profile", "service", "stop", "status"),
    [
        ("el9", "httpd", "systemctl stop httpd", "systemctl is-active httpd"),
        ("alpine", "apache2", "rc-service apache2 stop", "rc-service apache2 status"),
    ],
)
def test_systemd_and_openrc_services_are_compared_and_restored(
    lab: Lab,
    lab_host: Callable[..., LabHost],
    tmp_path: Path,
    profile: str,
    service: str,
    stop: str,
    status: str,
) -> None:
    host = lab_host(profile=profile, offset="0", daemon="running")
    assert runbook(lab, tmp_path, "pre-maint", host.name).returncode == 0
    [snapshot] = tmp_path.glob(f"{host.name}-before-*.json")
    assert json.loads(snapshot.read_text())["state"]["services"][service]["running"] is True

    host.run(stop, check=True)
    runbook(lab, tmp_path, "post-maint", host.name, "--only", "compare")
    assert ("service", "failure", service) in findings(compare_result(tmp_path, host.name))

    runbook(lab, tmp_path, "post-maint", host.name, "--only", "compare", "--restore")
    restored = compare_result(tmp_path, host.name)
    assert restored["data"]["restored"] == [f"started {service}"]
    assert host.run(status).returncode == 0


def test_a_cron_job_gone_since_the_snapshot_is_named(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host(offset="0", daemon="running")
    job = "45 3 * * * root /usr/local/bin/lab-dump --password=hunter2 /srv"
    host.run(f"echo '{job}' >>/etc/crontab", check=True)
    assert runbook(lab, tmp_path, "pre-maint", host.name).returncode == 0
    [snapshot] = tmp_path.glob(f"{host.name}-before-*.json")
    assert "hunter2" not in snapshot.read_text()
    kept = json.loads(snapshot.read_text())["cron"]
    assert {
        "schedule": "45 3 * * *",
        "user": "root",
        "command": "/usr/local/bin/lab-dump --password=*** /srv",
        "source": "/etc/crontab",
    } in kept
    assert "/usr/local/bin/lab-dump --password=***" in snapshot.with_suffix(".md").read_text()

    # the maintenance puts back an older crontab: the job is gone, another one appears
    host.run(
        "sed -i '/lab-dump/d' /etc/crontab && echo '0 4 * * * root /usr/local/bin/old-dump' >>/etc/crontab",
        check=True,
    )
    runbook(lab, tmp_path, "post-maint", host.name, "--only", "compare")
    result = compare_result(tmp_path, host.name)
    gone = "45 3 * * * /usr/local/bin/lab-dump --password=*** /srv (root)"
    assert findings(result) == {
        ("cron", "warning", gone),
        ("cron", "info", "0 4 * * * /usr/local/bin/old-dump (root)"),
    }
    assert (
        result["outcome"] == "ok"
        and "new cron job 0 4 * * * /usr/local/bin/old-dump (root)" in result["message"]
    )
    # the clock is right (the probe's cron scope would be boot), yet the probe read the crontabs:
    # the engine saw the snapshot has a cron schedule, so no command of compare's own reads them
    assert len(result["commands"]) == 1 and "@@runbook:cron@@" in result["commands"][0]["stdout"]
    record = sorted(tmp_path.glob(f"{host.name}-2*.md"), key=newest_last)[-1].read_text()
    assert f"| warning | cron job | {gone} | scheduled | → gone |" in record
    host.run("sed -i '/old-dump/d' /etc/crontab", check=True)


def test_on_real_systemd_a_stopped_service_is_named_and_restore_starts_it(
    lab: Lab, vm: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = vm("vm-chrony", offset="0")  # the session's shared VM: Debian 12, real systemd
    assert host.run("systemctl is-active cron && systemctl is-enabled cron").returncode == 0
    assert runbook(lab, tmp_path, "pre-maint", host.name).returncode == 0
    [snapshot] = tmp_path.glob(f"{host.name}-before-*.json")
    assert json.loads(snapshot.read_text())["state"]["services"]["cron"] == {
        "name": "cron",
        "running": True,
        "enabled": True,
        "failed": False,
    }
    try:
        host.run("systemctl stop cron", check=True)
        runbook(lab, tmp_path, "post-maint", host.name, "--only", "compare")
        broken = compare_result(tmp_path, host.name)
        assert broken["outcome"] == "failed"
        assert findings(broken) == {("service", "failure", "cron")}
        record = sorted(tmp_path.glob(f"{host.name}-2*.md"), key=newest_last)[-1].read_text()
        since = record.split("## Since before the maintenance")[1]
        assert "| **FAILED** | service | cron | running | → stopped |" in since

        runbook(lab, tmp_path, "post-maint", host.name, "--only", "compare", "--restore")
        assert compare_result(tmp_path, host.name)["data"]["restored"] == ["started cron"]
        assert host.run("systemctl is-active cron").stdout.strip() == "active"

        runbook(lab, tmp_path, "post-maint", host.name, "--only", "compare")
        clean = compare_result(tmp_path, host.name)
        assert (clean["outcome"], clean["data"]["findings"]) == ("ok", [])
    finally:
        host.run("systemctl start cron")  # the VM is shared: test_vm_cron needs its cron


def test_without_a_snapshot_only_the_profiles_own_services_are_reported(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host(offset="0", daemon="running")
    assert host.run("ls /etc/init.d", check=True).stdout.split() == ["httpd", "ntpd"]
    host.run("/sbin/service httpd stop", check=True)  # enabled at boot (chkconfig 345) and stopped
    runbook(lab, tmp_path, "post-maint", host.name, "--only", "compare")
    result = compare_result(tmp_path, host.name)
    assert findings(result) == {("service", "warning", "httpd")}  # not the controller's dbus, exim4, sudo...
