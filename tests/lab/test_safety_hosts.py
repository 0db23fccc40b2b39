"""Safe by default, over real SSH on lab hosts: host keys, sudo secrets, timeouts and faults.

Each test shows one item of docs/safety.md: what the user sees, what is recorded, and that the
other hosts of the same run are unaffected.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fabric import Connection
from invoke.exceptions import CommandTimedOut, UnexpectedExit
from record_files import newest_last

from lab import Lab, LabHost
from runbook.commands import StepRecorder, step
from runbook.connect import connect
from runbook.engine import run_fleet, run_host
from runbook.results import Outcome, StepResult
from runbook.settings import build_settings

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.lab


def cli(
    config: Path, records: Path, *hosts: str, extra: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "invoke", "-r", str(ROOT), "-f", str(config), "post-maint"]
    for host in hosts:
        argv += ["--host", host]
    argv += ["--record-dir", str(records), *extra]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=240, check=False, env={**os.environ, **(env or {})}
    )


def record_of(records: Path, host: str) -> dict[str, Any]:
    paths = sorted(records.glob(f"{host}-*.json"), key=newest_last)
    assert paths, f"no record for {host}: {sorted(p.name for p in records.iterdir())}"
    return json.loads(paths[-1].read_text())  # type: ignore[no-any-return]


def client_files(lab: Lab, tmp: Path, *, known: list[str], identity: Path | None = None) -> Path:
    """An ssh_config like the lab's whose known_hosts lists only the ``known`` hosts."""
    lines = [line for line in lab.layout.known_hosts.read_text().splitlines() if line.split(",")[0] in known]
    known_hosts = tmp / "known_hosts"
    known_hosts.write_text("".join(line + "\n" for line in lines))
    text = lab.layout.ssh_config.read_text().replace(str(lab.layout.known_hosts), str(known_hosts))
    if identity is not None:
        text = text.replace(str(lab.layout.identity), str(identity))
    config = tmp / "ssh_config"
    config.write_text(text)
    return config


def fingerprint(lab: Lab, name: str) -> str:
    key = lab.layout.host_dir(name) / "state" / "ssh_host_ed25519_key.pub"
    done = subprocess.run(["ssh-keygen", "-lf", str(key)], capture_output=True, text=True, check=True)
    return done.stdout.split()[1]


def config_file(lab: Lab, tmp: Path, **changes: str | None) -> Path:
    """The lab's runbook.yaml with top-level ``runbook:`` keys replaced (None drops the key)."""
    lines = lab.layout.runbook_yaml.read_text().splitlines()
    for key, value in changes.items():
        lines = [line for line in lines if not line.startswith(f"  {key}:")]
        if value is not None:
            lines.insert(lines.index("runbook:") + 1, f"  {key}: {value}")
    path = tmp / "runbook.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


# -- host keys ---------------------------------------------------------------------------------


def test_unknown_host_key_stops_that_host_only_and_accept_new_records_it(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    first, second = lab_host(), lab_host()
    ssh_config = client_files(lab, tmp_path, known=[second.name])
    config = config_file(lab, tmp_path, ssh_config=json.dumps(str(ssh_config)))

    done = cli(config, tmp_path / "r1", first.name, second.name, extra=("--dry-run",))
    assert done.returncode == 1, done.stdout + done.stderr
    refused = record_of(tmp_path / "r1", first.name)
    assert f"host key for {first.name}" in refused["error"] and "is not known" in refused["error"]
    assert fingerprint(lab, first.name) in refused["error"]
    assert refused["results"] == []  # stopped before any command ran
    assert f"{first.name}" in done.stdout and fingerprint(lab, first.name) in done.stdout
    assert record_of(tmp_path / "r1", second.name)["error"] in (None, "")
    assert record_of(tmp_path / "r1", second.name)["results"]

    accepted = cli(config, tmp_path / "r2", first.name, extra=("--dry-run", "--accept-new-host-keys"))
    assert record_of(tmp_path / "r2", first.name)["results"], accepted.stdout + accepted.stderr
    assert first.address in (tmp_path / "known_hosts").read_text()

    again = cli(config, tmp_path / "r3", first.name, extra=("--dry-run",))
    assert record_of(tmp_path / "r3", first.name)["results"], again.stdout + again.stderr


def test_changed_host_key_is_refused_even_with_accept_new(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    first, second = lab_host(), lab_host()
    ssh_config = client_files(lab, tmp_path, known=[first.name, second.name])
    old = fingerprint(lab, first.name)
    lab.rekey(first.name)
    new = fingerprint(lab, first.name)
    assert new != old
    config = config_file(lab, tmp_path, ssh_config=json.dumps(str(ssh_config)))
    before = (tmp_path / "known_hosts").read_text()

    done = cli(config, tmp_path / "r", first.name, second.name, extra=("--dry-run", "--accept-new-host-keys"))
    assert done.returncode == 1
    error = record_of(tmp_path / "r", first.name)["error"]
    assert "has CHANGED" in error and new in error and old in error
    assert record_of(tmp_path / "r", first.name)["results"] == []
    assert record_of(tmp_path / "r", second.name)["results"]
    assert (tmp_path / "known_hosts").read_text() == before  # never "fixed" behind the user's back


# -- sudo --------------------------------------------------------------------------------------


def everything_written(records: Path, done: subprocess.CompletedProcess[str]) -> str:
    files = [path.read_text(errors="replace") for path in records.rglob("*") if path.is_file()]
    return "\n".join([*files, done.stdout, done.stderr])


def test_sudo_password_from_the_environment_fixes_the_host_and_is_never_written(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host(user="sudo")
    assert host.user == "admin"
    password = lab.record()["sudo_password"]
    config = config_file(lab, tmp_path, sudo_password=None)
    done = cli(config, tmp_path / "r", host.name, env={"RUNBOOK_SUDO_PASSWORD": password})
    assert done.returncode == 0, done.stdout + done.stderr
    record = record_of(tmp_path / "r", host.name)
    steps = {result["step"]: result for result in record["results"]}
    assert steps["one_shot_sync"]["outcome"] == "changed"
    assert abs(steps["verify"]["data"]["offset"]) < 0.5  # the clock set via sudo is the host's clock
    assert abs(lab.clock_offset(host.name)) < 1
    assert password not in everything_written(tmp_path / "r", done)


def test_wrong_sudo_password_is_a_clear_failure_and_the_canary_is_never_written(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    canary = "CANARY-pw-5f1e9c"
    admin, other = lab_host(user="sudo"), lab_host()
    config = config_file(lab, tmp_path, sudo_password=json.dumps(canary))
    done = cli(config, tmp_path / "r", admin.name, other.name)
    assert done.returncode == 1
    failed = [r for r in record_of(tmp_path / "r", admin.name)["results"] if r["outcome"] == "failed"]
    assert failed and f"sudo on {admin.name} refused the password for admin" in failed[0]["message"]
    assert "refused the password" in done.stdout
    assert record_of(tmp_path / "r", other.name)["results"][-1]["outcome"] == "ok"
    assert canary not in everything_written(tmp_path / "r", done)
    assert canary in config.read_text()  # the search would have found it


# -- timeouts ----------------------------------------------------------------------------------


def sleeping(host: LabHost, pattern: str) -> bool:
    return host.run(f"pgrep -f {pattern!r}").returncode == 0


def test_command_timeout_ends_the_remote_process(lab: Lab, lab_host: Callable[..., LabHost]) -> None:
    host = lab_host()
    c = connect(host.name, ssh_config=str(lab.layout.ssh_config))
    rec = StepRecorder("x")
    started = time.monotonic()
    record = rec.run(c, "sleep 1234; touch /tmp/after", timeout=2, parse=False)
    assert time.monotonic() - started < 8
    assert record.exit_code is None and record.note.startswith("timed out after 2 s; ended on the host")
    assert not sleeping(host, "sleep 1234")
    # control: Fabric's own timeout only closes the channel, the process lives on. Invoke may
    # raise UnexpectedExit(-1) instead of CommandTimedOut: its timer thread can still be inside
    # channel.close() when the runner asks whether the timer ran out (seen under CI's load).
    started = time.monotonic()
    with pytest.raises((CommandTimedOut, UnexpectedExit)) as closed:
        c.run("sleep 4321", timeout=2, hide=True, in_stream=False)
    assert closed.value.result.exited == -1 and time.monotonic() - started >= 2
    assert sleeping(host, "sleep 4321")
    c.close()


def test_step_timeout_stops_the_host_and_closes_its_connection(
    lab: Lab, lab_host: Callable[..., LabHost]
) -> None:
    host = lab_host()
    release = threading.Event()

    @step("slow")
    def slow(c: Any, rec: StepRecorder) -> StepResult:
        rec.run(c, "true", parse=False)
        release.wait(600)  # slow work on the controller: a command's own limit now ends inside the step
        return rec.finish(Outcome.OK, "never")

    @step("after")
    def after(c: Any, rec: StepRecorder) -> StepResult:
        return rec.finish(Outcome.OK, "ran")

    settings = build_settings({"ssh_config": str(lab.layout.ssh_config), "step_timeout": 2})
    started = time.monotonic()
    run = run_host(host.name, settings, [slow, after])
    assert time.monotonic() - started < 10
    assert [r.outcome for r in run.results] == [Outcome.FAILED]
    assert "did not finish within the step timeout (2 s)" in run.results[0].message
    assert run.error == run.results[0].message
    release.set()


def test_connect_timeout_to_an_address_nobody_answers(lab: Lab, tmp_path: Path) -> None:
    prefix = lab.record()["ntp_server"].rsplit(".", 1)[0]
    config = tmp_path / "ssh_config"
    config.write_text(f"Host ghost\n    HostName {prefix}.250\n    User root\n")
    settings = build_settings({"ssh_config": str(config), "connect_timeout": 2})
    started = time.monotonic()
    run = run_host("ghost", settings)
    assert time.monotonic() - started < 6
    assert run.error is not None and f"ghost ({prefix}.250:22) is unreachable" in run.error
    assert run.results == []


# -- faults ------------------------------------------------------------------------------------


def test_auth_failure_stops_that_host_only(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    first, second = lab_host(), lab_host()
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    head, _, rest = lab.layout.ssh_config.read_text().partition(f"Host {first.name}\n")
    block, _, tail = rest.partition("\nHost ")
    bad = tmp_path / "ssh_config"
    bad.write_text(
        f"{head}Host {first.name}\n{block.replace(str(lab.layout.identity), str(stranger))}\nHost {tail}"
    )
    server = lab.record()["ntp_server"]
    settings = build_settings({"ssh_config": str(bad), "dry_run": True, "ntp_servers": [server]})
    fleet = run_fleet([first.name, second.name], settings)
    runs = {run.host: run for run in fleet.runs}
    refused = runs[first.name].error or ""
    assert f"authentication failed for root@{first.name}" in refused
    assert runs[first.name].results == []
    assert runs[second.name].error is None and runs[second.name].results


def test_connection_dropped_in_the_middle_of_a_step(lab: Lab, lab_host: Callable[..., LabHost]) -> None:
    dropped, other = lab_host(), lab_host()

    @step("long")
    def long(c: Any, rec: StepRecorder) -> StepResult:
        record = rec.run(c, "sleep 20 && echo done", timeout=60, parse=False)
        if record.exit_code != 0:
            return rec.finish(Outcome.FAILED, f"sleep did not finish: {record.note or record.exit_code}")
        return rec.finish(Outcome.OK, "slept")

    @step("after")
    def after(c: Any, rec: StepRecorder) -> StepResult:
        rec.run(c, "true")
        return rec.finish(Outcome.OK, "ran")

    def kill_session() -> None:
        deadline = time.monotonic() + 15
        while not sleeping(dropped, "sleep 20") and time.monotonic() < deadline:
            time.sleep(0.1)
        dropped.run("pkill -KILL -o -f 'sshd: root@notty'")

    killer = threading.Thread(target=kill_session)
    killer.start()
    settings = build_settings({"ssh_config": str(lab.layout.ssh_config)})
    started = time.monotonic()
    fleet = run_fleet([dropped.name, other.name], settings, [long, after])
    killer.join()
    assert time.monotonic() - started < 40
    runs = {run.host: run for run in fleet.runs}
    broken = runs[dropped.name]
    assert broken.results[0].outcome == Outcome.FAILED, broken
    assert broken.results[0].commands[0].exit_code != 0
    assert [r.outcome for r in runs[other.name].results] == [Outcome.OK, Outcome.OK]


def test_ntp_server_down_falls_back_to_the_next(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host()
    server = lab.record()["ntp_server"]
    dead = server.rsplit(".", 1)[0] + ".250"
    config = config_file(lab, tmp_path, ntp_servers=json.dumps([dead, server]))
    done = cli(config, tmp_path / "r", host.name, extra=("--dry-run",))
    check = record_of(tmp_path / "r", host.name)["results"][0]
    assert check["step"] == "check_date" and check["outcome"] == "ok", done.stdout + done.stderr
    assert server in json.dumps(check["data"])

    alone = config_file(lab, tmp_path, ntp_servers=json.dumps([dead]))
    down = cli(alone, tmp_path / "r2", host.name, extra=("--dry-run",))
    assert down.returncode == 1
    first = record_of(tmp_path / "r2", host.name)["results"][0]
    assert first["outcome"] == "failed" and dead in first["message"], first


def test_read_only_backup_target_fails_the_rerun_clearly(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host()
    locked = host.run(
        "mount --bind /var/lib/backup /var/lib/backup && mount -o remount,ro,bind /var/lib/backup"
    )
    assert locked.returncode == 0, locked.stderr
    done = cli(lab.layout.runbook_yaml, tmp_path, host.name)
    assert done.returncode == 1
    steps = {r["step"]: r for r in record_of(tmp_path, host.name)["results"]}
    backup = steps["rerun_backup"]
    assert backup["outcome"] == "failed", backup
    output = "\n".join(c["stdout"] + c["stderr"] for c in backup["commands"])
    assert re.search(r"[Rr]ead-only file system", output), output


def test_clock_decades_ahead_is_measured_and_not_stepped_back_silently(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host(offset="+40y")
    done = cli(lab.layout.runbook_yaml, tmp_path, host.name)
    steps = {r["step"]: r for r in record_of(tmp_path, host.name)["results"]}
    offset = steps["check_date"]["data"]["offset"]
    assert offset == pytest.approx(-40 * 365.25 * 86400, rel=0.01), done.stdout
    assert done.returncode == 1
    assert lab.clock_offset(host.name) > 30 * 365 * 86400  # left alone without --allow-backward-step


def test_lab_hosts_accept_no_fabric_default_policy(lab: Lab, lab_host: Callable[..., LabHost]) -> None:
    """Plain Fabric would accept an unknown key; ``connect`` refuses it (the reason for connect.py)."""
    host = lab_host()
    plain = Connection(host.address, user="root", connect_kwargs={"key_filename": str(lab.layout.identity)})
    assert plain.run("true", hide=True, in_stream=False).ok
    plain.close()
    with pytest.raises(Exception, match="is not known"):
        connect(host.address, ssh_config=None, connect_timeout=5)
