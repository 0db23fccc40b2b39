"""The lab's upstream NTP server: real chronyd with ``-x`` (never touches the clock) in its own namespace."""

from __future__ import annotations

import subprocess
from pathlib import Path

import ntplib

from lab import network
from lab.waiting import wait_until

DROP_CLOCK = ["capsh", "--drop=cap_sys_time", "--"]


def chrony_config(state_dir: Path) -> str:
    return (
        "# lab upstream: serves its (real) clock as stratum 2, never adjusts it (-x)\n"
        "local stratum 2\n"
        f"allow {network.SUBNET}\n"
        f"bindaddress {network.NTP_SERVER}\n"
        "cmdport 0\n"
        f"pidfile {state_dir / 'chronyd.pid'}\n"
        f"driftfile {state_dir / 'drift'}\n"
    )


def start_ntp_server(state_dir: Path) -> subprocess.Popen[bytes]:
    """Start chronyd in the lab-ntp namespace, without CAP_SYS_TIME, and wait until it answers."""
    state_dir.mkdir(parents=True, exist_ok=True)
    config = state_dir / "chrony.conf"
    config.write_text(chrony_config(state_dir))
    command = f"exec chronyd -x -d -u root -f {config}"
    with (state_dir / "chronyd.log").open("ab") as log:
        process = subprocess.Popen(
            ["ip", "netns", "exec", network.ntp_node().namespace, *DROP_CLOCK, "-c", command],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_until(ntp_answers, 10.0, f"chronyd to answer on {network.NTP_SERVER}:123 (log: {state_dir})")
    return process


def ntp_answers() -> bool:
    """True when the lab NTP server answers one query from the controller."""
    try:
        ntplib.NTPClient().request(network.NTP_SERVER, version=4, timeout=0.2)
    except (ntplib.NTPException, OSError):
        return False
    return True
