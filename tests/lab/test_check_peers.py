"""``runbook check`` beside its real peers: monitoring-plugins' check_ntp_time and Debian's Nagios 4.

check_ntp_time (monitoring-plugins-basic, on the machine and so in each lab host's /usr) runs
inside the lab host, under the host's own fake clock, against the lab NTP server: it measures
the host's clock from the inside, runbook from outside over SSH. They must agree on the state
and on the offset within runbook's error bound plus 10 ms, for a host 3 h behind, one in step
and one 2 s ahead. Then a real nagios4 runs ``runbook check`` as a service and records OK for
a host post-maint fixed and CRITICAL for the seed's broken host.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from check_support import ROOT, RUNBOOK, run_check
from nagios_engine import NagiosEngine

from lab import Lab, LabHost

pytestmark = pytest.mark.lab

CHECK_NTP_TIME = "/usr/lib/nagios/plugins/check_ntp_time"
_PEER_OFFSET = re.compile(r"\|offset=([-+0-9.]+)s;")


@pytest.mark.parametrize(("offset", "state"), [("-3h", 2), ("0", 0), ("+2s", 2)])
def test_check_ntp_time_agrees(lab: Lab, lab_host: Callable[..., LabHost], offset: str, state: int) -> None:
    host = lab_host(offset=offset, daemon="stopped")
    server = lab.record()["ntp_server"]
    peer = host.run(f"{CHECK_NTP_TIME} -H {server} -w 0.5 -c 1")
    ours = run_check(lab, "-H", host.name, "-w", "0.5", "-c", "1", "--daemon", "ignore", "--backup", "ignore")
    found = _PEER_OFFSET.search(peer.stdout)
    assert found, peer.stdout + peer.stderr
    assert (ours.code, peer.returncode) == (state, state), (ours.lines, peer.stdout)
    assert abs(ours.offset - float(found.group(1))) <= ours.bound + 0.010, (ours.first, peer.stdout)


def test_nagios_records_ok_and_critical(lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path) -> None:
    fixed = lab_host(offset="-3h", daemon="stopped")
    broken = lab_host(offset="-3h", daemon="stopped")
    argv = [sys.executable, "-m", "invoke", "-r", str(ROOT), "-f", str(lab.layout.runbook_yaml)]
    argv += ["post-maint", "--host", fixed.name, "--record-dir", str(tmp_path / "records")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout + done.stderr

    command = f"{RUNBOOK} -f {lab.layout.runbook_yaml} check -H $HOSTNAME$ -w 0.5 -c 1"
    engine = NagiosEngine(tmp_path / "nagios", {fixed.name: command, broken.name: command})
    engine.start()
    try:
        for host in (fixed.name, broken.name):
            engine.force_check(host)
        ok, critical = engine.checked(fixed.name), engine.checked(broken.name)
    finally:
        engine.stop()
    assert (ok.current_state, critical.current_state) == (0, 2), (ok, critical)
    assert ok.plugin_output.startswith("CLOCK OK - offset "), ok
    assert critical.plugin_output.startswith("CLOCK CRITICAL - offset +10800.0 s: ntpd not running"), critical
    perf_offset = float(critical.performance_data.split("=", 1)[1].split("s;", 1)[0])
    assert perf_offset == pytest.approx(10800, abs=1), critical
    assert "SERVICE NOTIFICATION" not in (tmp_path / "nagios" / "nagios.log").read_text()
