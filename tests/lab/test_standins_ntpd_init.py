"""The ntpd init script stand-in with the real ntpsec ntpd, in throw-away network, mount and PID namespaces.

/etc gets a writable overlay holding the script, /etc/sysconfig/ntpd, /etc/ntp.conf and, like a lab host,
/etc/ld.so.preload with /etc/faketimerc linked to a clock file three hours behind; /usr/sbin gets ntpsec's
ntpd; /run is a fresh tmpfs (so Debian's `service` runs the script directly).
"""

from __future__ import annotations

import shlex
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from standin_support import (
    STANDINS,
    NtpNetwork,
    Ran,
    faketime_library,
    ntp_network,
    ntpsec_sbin,
    real_clock_unchanged,
    run_isolated,
)

from lab.faketime import read_clock_offset, write_clock_offset

OK = "[  OK  ]\r\n"
FAILED = "[FAILED]\r\n"
PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.fixture(scope="module")
def network() -> Iterator[NtpNetwork]:
    with ntp_network() as created:
        yield created


def host(network: NtpNetwork, tmp_path: Path, *commands: str) -> list[Ran]:
    """Run shell commands on a throw-away CentOS-6-like host whose fake clock is 3 h behind."""
    clock = tmp_path / "clock.rc"
    write_clock_offset(clock, -3 * 3600)
    etc = tmp_path / "etc"
    (etc / "init.d").mkdir(parents=True)
    (etc / "sysconfig").mkdir()
    shutil.copy(STANDINS / "ntpd.init", etc / "init.d" / "ntpd")
    shutil.copy(STANDINS / "ntpd.sysconfig", etc / "sysconfig" / "ntpd")
    (etc / "ntp.conf").write_text("# no servers: the daemon only holds UDP 123\n")
    (etc / "ld.so.preload").write_text(f"{faketime_library()}\n")
    (etc / "faketimerc").symlink_to(clock)
    upper, work = tmp_path / "upper", tmp_path / "work"
    for name in ("upper", "work", "out"):
        (tmp_path / name).mkdir()
    setup = "\n".join(
        [
            f"mount -t overlay overlay -o lowerdir={etc}:/etc,upperdir={upper},workdir={work} /etc",
            f"mount -t overlay overlay -o lowerdir={ntpsec_sbin()}:/usr/sbin /usr/sbin",
            "mount -t tmpfs tmpfs /run",
            "mkdir -p /run/lock",
        ]
    )
    env = {"PATH": PATH, "FAKETIME_TIMESTAMP_FILE": "/etc/faketimerc", "FAKETIME_UPDATE_TIMESTAMP_FILE": "1"}
    with real_clock_unchanged():
        return run_isolated(setup, list(commands), tmp_path / "out", env=env, netns=network.client)


def test_start_status_stop(network: NtpNetwork, tmp_path: Path) -> None:
    start, status, pid, again, stop, after = host(
        network,
        tmp_path,
        "service ntpd start",
        "service ntpd status",
        "cat /var/run/ntpd.pid",
        "/etc/init.d/ntpd start",
        "service ntpd stop",
        "service ntpd status",
    )
    assert (start.rc, start.out) == (0, "Starting ntpd: " + OK)
    assert (status.rc, status.out) == (0, f"ntpd (pid {pid.out.strip()}) is running...\n")
    assert (again.rc, again.out) == (0, "Starting ntpd: \n")
    assert (stop.rc, stop.out) == (0, "Shutting down ntpd: " + OK)
    assert (after.rc, after.out) == (3, "ntpd is stopped\n")


def test_stop_when_stopped_fails_but_exits_0_and_restart_starts(network: NtpNetwork, tmp_path: Path) -> None:
    stop, restart, condrestart, stopped_cond = host(
        network,
        tmp_path,
        "service ntpd stop",
        "service ntpd restart",
        "service ntpd condrestart",
        "service ntpd stop >/dev/null; service ntpd try-restart",
    )
    assert (stop.rc, stop.out) == (0, "Shutting down ntpd: " + FAILED)
    assert (restart.rc, restart.out) == (0, "Shutting down ntpd: " + FAILED + "Starting ntpd: " + OK)
    assert (condrestart.rc, condrestart.out) == (0, "Shutting down ntpd: " + OK + "Starting ntpd: " + OK)
    assert (stopped_cond.rc, stopped_cond.out) == (0, "")


def test_crashed_daemon(network: NtpNetwork, tmp_path: Path) -> None:
    _, stale, stop, locked, unlocked = host(
        network,
        tmp_path,
        "service ntpd start && kill -9 $(cat /var/run/ntpd.pid)",
        "service ntpd status",
        "service ntpd stop; test ! -e /var/run/ntpd.pid",
        "touch /var/lock/subsys/ntpd; service ntpd status",
        "rm /var/lock/subsys/ntpd; service ntpd status",
    )
    assert (stale.rc, stale.out) == (1, "ntpd dead but pid file exists\n")
    assert (stop.rc, stop.out) == (0, "Shutting down ntpd: " + FAILED)
    assert (locked.rc, locked.out) == (2, "ntpd dead but subsys locked\n")
    assert (unlocked.rc, unlocked.out) == (3, "ntpd is stopped\n")


def test_start_failure_and_usage(network: NtpNetwork, tmp_path: Path) -> None:
    failed, usage, no_sysconfig = host(
        network,
        tmp_path,
        "echo 'OPTIONS=\"--no-such-option\"' >/etc/sysconfig/ntpd; service ntpd start",
        "/etc/init.d/ntpd sideways",
        "rm /etc/sysconfig/ntpd; /etc/init.d/ntpd start",
    )
    assert (failed.rc, failed.out) == (1, "Starting ntpd: " + FAILED)
    assert (usage.rc, usage.out) == (
        2,
        "Usage: /etc/init.d/ntpd {start|stop|status|restart|try-restart|force-reload}\n",
    )
    assert (no_sysconfig.rc, no_sysconfig.out) == (6, "")


@pytest.mark.skipif(shutil.which("script") is None, reason="needs util-linux script for a terminal")
def test_terminal_output_moves_to_column_60_in_colour(network: NtpNetwork, tmp_path: Path) -> None:
    (stop,) = host(network, tmp_path, "script -qec '/etc/init.d/ntpd stop' /dev/null")
    assert "Shutting down ntpd: \x1b[60G[\x1b[0;31mFAILED\x1b[0;39m]" in stop.out


def test_seed_story_socket_in_use_then_step(network: NtpNetwork, tmp_path: Path) -> None:
    ntpdate = shlex.quote(str(STANDINS / "ntpdate-classic"))
    server = network.address("good")
    before, start, refused, stop, stepped, after, restart = host(
        network,
        tmp_path,
        "env -i date +%s",
        "service ntpd start",
        f"{ntpdate} {server}",
        "service ntpd stop",
        f"{ntpdate} -p 1 {server}",
        "env -i date +%s",
        "service ntpd start && service ntpd status",
    )
    assert int(before.out) - time.time() == pytest.approx(-10800, abs=5)
    assert start.out == "Starting ntpd: " + OK
    assert refused.rc == 1
    assert refused.err.endswith("the NTP socket is in use, exiting\n")
    assert stop.out == "Shutting down ntpd: " + OK
    assert stepped.rc == 0, stepped.err
    assert f"step time server {server} offset +108" in stepped.out
    assert int(after.out) - time.time() == pytest.approx(0, abs=5)
    assert read_clock_offset(tmp_path / "clock.rc") == pytest.approx(0, abs=2)
    assert restart.rc == 0
    assert restart.out.startswith("Starting ntpd: " + OK + "ntpd (pid ")
