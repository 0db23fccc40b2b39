"""``runbook check`` over real OpenSSH on lab hosts: states, read-only, UNKNOWN reasons, the detector.

The loop the check closes: the seed's host (3 h behind, ntpd stopped, backup missed) is
CRITICAL; after ``post-maint`` it is OK. The check changes nothing on the host. A host that
cannot be checked is UNKNOWN and says why. With a state file, a host whose clock lost time
unseen by its boot clock, or that booted again, warns until the hold ends.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from check_support import ROOT, run_check

from lab import Lab, LabHost

pytestmark = pytest.mark.lab


def post_maint(lab: Lab, records: Path, host: str) -> None:
    argv = [sys.executable, "-m", "invoke", "-r", str(ROOT), "-f", str(lab.layout.runbook_yaml)]
    argv += ["post-maint", "--host", host, "--record-dir", str(records)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


UNTOUCHED = "cat /run/lab/clock.rc; service ntpd status; echo rc=$?; ls -l --time-style=+%s /var/lib/backup"
"""What the check must never change: the host's clock, ntpd's status, the backup's evidence."""


def test_seed_host_is_critical_then_ok_after_post_maint(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host(offset="-3h", daemon="stopped")
    before = host.run(UNTOUCHED)
    broken = run_check(lab, "--host", host.name)
    assert broken.code == 2, broken.lines
    assert broken.first.startswith("CLOCK CRITICAL - offset +10800.0 s; ntpd not running, disabled at boot; ")
    assert "backup stale: last success 1d 2h 49m" in broken.first
    assert broken.offset == pytest.approx(10800, abs=5) and 0 < broken.bound < 0.05
    assert " sync=U;;;0;1" in broken.first and len(broken.lines) == 1
    after = host.run(UNTOUCHED)
    assert after.stdout == before.stdout  # read-only: clock, daemon and backup untouched

    post_maint(lab, tmp_path, host.name)
    fixed = run_check(lab, "-H", host.name, "-w", "0.5", "-c", "1")
    assert fixed.code == 0, fixed.lines
    assert fixed.first.startswith("CLOCK OK - offset ")
    assert "; ntpd synchronised to " in fixed.first and " sync=1;;;0;1" in fixed.first
    assert abs(fixed.offset) < 0.5

    as_json = run_check(lab, "-H", host.name, "--json")
    document = json.loads("\n".join(as_json.lines))
    assert as_json.code == 0 and document["state"] == "OK"
    assert document["hosts"][0]["daemon"] == "ntpd" and document["hosts"][0]["synchronised"] is True


def test_thresholds_and_switches(lab: Lab, lab_host: Callable[..., LabHost]) -> None:
    host = lab_host(offset="+2s", daemon="stopped")
    only_offset = ("--daemon", "ignore", "--backup", "ignore")
    assert run_check(lab, "-H", host.name, *only_offset).code == 2
    warned = run_check(lab, "-H", host.name, "-w", "1", "-c", "5", *only_offset)
    assert warned.code == 1 and warned.first.startswith("CLOCK WARNING - offset -2.0 s; ntpd not running")
    quiet = run_check(
        lab, "-H", host.name, "-w", "~:", "-c", "~:", "--daemon", "ignore", "--backup", "ignore"
    )
    assert quiet.code == 0, quiet.lines
    daemon = run_check(lab, "-H", host.name, "-w", "~:", "-c", "~:", "--backup", "ignore")
    assert daemon.code == 2 and "ntpd not running, disabled at boot" in daemon.first
    stale = run_check(lab, "-H", host.name, "-w", "~:", "-c", "~:", "--daemon", "warning")
    assert stale.code == 1 and "backup stale" in stale.first


def test_unknown_says_why_and_bad_flags_are_unknown(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host(offset="0", daemon="running")
    lab_dir = lab.layout.ssh_config.parent
    config = (lab.layout.ssh_config).read_text()
    strangers = tmp_path / "ssh_config"
    strangers.write_text(config.replace(str(lab_dir / "known_hosts"), str(tmp_path / "empty_known_hosts")))
    refused = run_check(lab, "-H", host.name, "--ssh-config", str(strangers))
    assert refused.code == 3 and refused.first.startswith(f"CLOCK UNKNOWN - host key for {host.name} ")
    assert "is not known" in refused.first

    gone = tmp_path / "ssh_config_gone"
    gone.write_text(config + f"\nHost nowhere\n  HostName {host.address.rsplit('.', 1)[0]}.250\n  Port 22\n")
    unreachable = run_check(lab, "-H", "nowhere", "--ssh-config", str(gone), "-t", "2")
    assert unreachable.code == 3 and unreachable.first.startswith("CLOCK UNKNOWN - nowhere ")
    assert "is unreachable" in unreachable.first

    no_ntp = run_check(lab, "-H", host.name, "--ntp-server", "127.0.0.1", "-t", "2")
    assert no_ntp.code == 3 and no_ntp.first.startswith("CLOCK UNKNOWN - no NTP reference: ")

    only_offset = ("--daemon", "ignore", "--sync", "ignore", "--backup", "ignore")
    several = run_check(
        lab, "-H", host.name, "-H", "nowhere", "--ssh-config", str(gone), "-t", "2", *only_offset
    )
    assert several.code == 3, several.lines  # UNKNOWN beside OK: the worst state
    assert several.first.startswith("CLOCK UNKNOWN - 2 hosts: 1 unknown, 1 ok | ")
    assert several.lines[1].startswith(f"{host.name} OK - offset ")
    assert several.lines[2].startswith("nowhere UNKNOWN - nowhere ")

    bad = run_check(lab, "-H", host.name, "-w", "1:0")
    assert (bad.code, bad.lines) == (
        3,
        ["CLOCK UNKNOWN - --warning '1:0' starts after it ends: write START:END with START <= END"],
    )
    assert run_check(lab, "-H", host.name, "--sync", "off").first == (
        "CLOCK UNKNOWN - --sync takes critical, warning or ignore, not 'off'"
    )


def test_state_file_detects_a_suspension_and_a_reboot(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host(offset="0", daemon="stopped")
    state = tmp_path / "check-state.json"
    args = ("-H", host.name, "--state-file", str(state), "--daemon", "ignore", "--backup", "ignore")
    first = run_check(lab, *args, "-w", "~:", "-c", "~:")
    assert first.code == 0, first.lines
    remembered = json.loads(state.read_text())["hosts"][host.name]
    assert remembered["boot_id"] and remembered["boot_time"] and remembered["detected"] is None

    # a paused VM: the clock falls 30 s behind while the boot clock stood still too (lab btime is static)
    host.run("date -s '30 seconds ago'", check=True)
    paused = run_check(lab, *args, "-w", "~:", "-c", "~:")
    assert paused.code == 1, paused.lines
    assert paused.first.startswith("CLOCK WARNING - offset +30.0 s; ntpd not running, disabled at boot; ")
    assert (
        "host rebooted or was suspended since the last check: run post-maint "
        "(the clock lost 30.0 s that its boot clock did not count)" in paused.first
    )
    assert run_check(lab, *args, "-w", "~:", "-c", "~:").code == 1  # held for the engine's retries
    assert run_check(lab, *args, "-w", "~:", "-c", "~:", "--hold", "0.001").code == 0

    lab.reset(host.name, offset="0", daemon="stopped")
    again = run_check(lab, *args, "-w", "~:", "-c", "~:")
    assert again.code == 1, again.lines
    assert again.first.startswith("CLOCK WARNING - offset ")
    assert "; host rebooted or was suspended since the last check: run post-maint (boot id changed) | " in (
        again.first
    )
    assert json.loads(state.read_text())["hosts"][host.name]["boot_id"] != remembered["boot_id"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["check-state.json", "check-state.json.lock"]
