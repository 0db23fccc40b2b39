"""The classic ntpdate stand-in, run for real in a private network namespace against a tiny NTP server.

Its outputs are compared with the real ntpdate 4.2.8p15's, recorded on the vm-ntp host (tests/cases/ntpdate).
"""

from __future__ import annotations

import calendar
import re
import shlex
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from recorded_output import assert_matches
from standin_support import (
    STANDINS,
    NtpNetwork,
    faketime_library,
    ntp_network,
    real_clock_unchanged,
    run_without_settime,
)

from lab.faketime import faketime_env, read_clock_offset, write_clock_offset

NTPDATE = STANDINS / "ntpdate-classic"
PREFIX = r"[ \d]\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d\d:\d\d:\d\d ntpdate\[\d+\]: "
RESULT = re.compile(PREFIX + r"(step|adjust) time server (\S+) offset ([+-]\d+\.\d{6}) sec$")
HOLD_PORT_123 = (
    "import socket, sys; s = socket.socket(2, 2); s.bind(('0.0.0.0', 123)); print('bound', flush=True); "
    "sys.stdin.read()"
)
PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.fixture(scope="module")
def network() -> Iterator[NtpNetwork]:
    with ntp_network() as created:
        yield created


@pytest.fixture
def clock(tmp_path: Path) -> Path:
    """A fake clock three hours behind."""
    state = tmp_path / "clock.rc"
    write_clock_offset(state, -3 * 3600)
    return state


def ntpdate(
    network: NtpNetwork, args: str, clock: Path | None, setup: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run the stand-in in the client namespace under `clock` (None: the real clock), without CAP_SYS_TIME.

    `setup` runs first in a private mount namespace (e.g. bind mounts).
    """
    env = {"PATH": PATH, "TZ": "UTC"}
    if clock is not None:
        env |= faketime_env(clock, faketime_library())
    command = f"{setup}{shlex.quote(str(NTPDATE))} {args}"
    if setup:
        command = f"unshare -m sh -c {shlex.quote(command)}"
    return run_without_settime(command, env=env, netns=network.client)


def result_line(text: str) -> tuple[str, str, float]:
    """Kind, server and offset from ntpdate's last line as written (a day below 10 is space-padded)."""
    found = RESULT.match(text.rstrip("\n").splitlines()[-1])
    assert found, text
    return found[1], found[2], float(found[3])


def logged_time(line: str, now: float) -> float:
    """The epoch time of ntpdate's ``DD Mon HH:MM:SS`` prefix (UTC), in the year nearest ``now``."""
    stamp = line.split(" ntpdate[", maxsplit=1)[0]
    year = time.gmtime(now).tm_year
    candidates = []
    for guess in (year - 1, year, year + 1):
        try:
            candidates.append(calendar.timegm(time.strptime(f"{stamp} {guess}", "%d %b %H:%M:%S %Y")))
        except ValueError:  # 29 Feb outside a leap year
            continue
    return min(candidates, key=lambda t: abs(t - now))


def test_steps_a_clock_three_hours_behind(network: NtpNetwork, clock: Path) -> None:
    with real_clock_unchanged():
        done = ntpdate(network, "-p 1 10.201.7.1", clock)
    assert done.returncode == 0, done.stderr
    assert_matches(done, "ntpdate/debian11-step")
    kind, server, offset = result_line(done.stdout)
    assert (kind, server) == ("step", "10.201.7.1")
    assert offset == pytest.approx(10800, abs=1)
    assert read_clock_offset(clock) == pytest.approx(0, abs=1)
    assert logged_time(done.stdout, time.time()) == pytest.approx(time.time(), abs=5)


@pytest.mark.parametrize(
    ("line", "now", "expected"),
    [
        (" 5 Dec 16:59:31 ntpdate[8709]: step", "2026-12-05T16:59:35Z", "2026-12-05T16:59:31Z"),
        ("15 Dec 16:59:31 ntpdate[8709]: step", "2026-12-15T16:59:35Z", "2026-12-15T16:59:31Z"),
        ("31 Dec 23:59:59 ntpdate[1]: step", "2027-01-01T00:00:02Z", "2026-12-31T23:59:59Z"),
        ("29 Feb 12:00:00 ntpdate[1]: step", "2028-02-29T12:00:01Z", "2028-02-29T12:00:00Z"),
    ],
)
def test_ntpdate_prefix_is_read_on_any_day(line: str, now: str, expected: str) -> None:
    """The padded day (the failure of issue 18), the turn of a year and a leap day."""
    parse = datetime.fromisoformat
    assert re.match(PREFIX, line)
    assert logged_time(line, parse(now).timestamp()) == parse(expected).timestamp()
    whole = line.replace("step", "step time server 10.0.0.1 offset +1.000000 sec") + "\n"
    assert result_line(whole)[0] == "step"


def test_small_offset_is_slewed_but_b_steps_it(network: NtpNetwork, clock: Path) -> None:
    write_clock_offset(clock, -0.2)
    done = ntpdate(network, "10.201.7.1", clock)
    assert_matches(done, "ntpdate/debian11-adjust")
    kind, _, offset = result_line(done.stdout)
    assert kind == "adjust"
    assert offset == pytest.approx(0.2, abs=0.05)
    assert abs(read_clock_offset(clock)) < 0.05
    write_clock_offset(clock, -0.2)
    assert result_line(ntpdate(network, "-b -p 1 10.201.7.1", clock).stdout)[0] == "step"


def test_a_clock_ahead_is_stepped_back_with_a_minus_sign(network: NtpNetwork, clock: Path) -> None:
    write_clock_offset(clock, 3)
    done = ntpdate(network, "-p 1 10.201.7.1", clock)
    assert_matches(done, "ntpdate/debian11-step-back")
    assert result_line(done.stdout)[2] == pytest.approx(-3, abs=0.5)
    assert read_clock_offset(clock) == pytest.approx(0, abs=0.5)


def test_large_slew_with_B_is_reported_but_not_applied(network: NtpNetwork, clock: Path) -> None:
    done = ntpdate(network, "-B -p 1 10.201.7.1", clock)
    assert done.returncode == 0, done.stderr
    assert result_line(done.stdout)[0] == "adjust"
    assert read_clock_offset(clock) == -10800


def test_socket_in_use_unless_unprivileged_or_query(network: NtpNetwork, clock: Path) -> None:
    holder = subprocess.Popen(
        ["ip", "netns", "exec", network.client, "python3", "-c", HOLD_PORT_123],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "bound\n"
        refused = ntpdate(network, "10.201.7.1", clock)
        assert_matches(refused, "ntpdate/debian11-socket-in-use")
        assert read_clock_offset(clock) == -10800
        queried = ntpdate(network, "-q -p 1 10.201.7.1", clock)
        assert queried.returncode == 0, queried.stderr
        assert read_clock_offset(clock) == -10800
        unprivileged = ntpdate(network, "-u -p 1 10.201.7.1", clock)
        assert unprivileged.returncode == 0, unprivileged.stderr
        assert result_line(unprivileged.stdout)[0] == "step"
    finally:
        holder.communicate("")


def test_query_prints_the_server_and_never_sets(network: NtpNetwork, clock: Path) -> None:
    done = ntpdate(network, "-q 10.201.7.1", clock)
    assert_matches(done, "ntpdate/debian11-query")
    first, second = done.stdout.splitlines()
    found = re.fullmatch(r"server 10\.201\.7\.1, stratum 2, offset \+(\d+\.\d{6}), delay (\d\.\d{5})", first)
    assert found, first
    assert float(found[1]) == pytest.approx(10800, abs=1)
    assert result_line(second)[:2] == ("step", "10.201.7.1")
    assert read_clock_offset(clock) == -10800


@pytest.mark.parametrize("kind", ["silent", "kod", "unsync"])
def test_no_usable_answer(network: NtpNetwork, clock: Path, kind: str) -> None:
    address = network.address(kind)
    start = time.monotonic()
    done = ntpdate(network, f"-q -p 2 -t 0.4 {address}", clock)
    assert time.monotonic() - start < 5
    assert_matches(done, "ntpdate/debian11-no-answer")
    assert read_clock_offset(clock) == -10800


def test_best_of_several_servers_is_used(network: NtpNetwork, clock: Path) -> None:
    done = ntpdate(network, "-p 1 -t 0.2 10.201.7.3 10.201.7.4 10.201.7.1", clock)
    assert done.returncode == 0, done.stderr
    assert result_line(done.stdout)[:2] == ("step", "10.201.7.1")


def test_unknown_name_is_skipped(network: NtpNetwork, clock: Path, tmp_path: Path) -> None:
    files_only = tmp_path / "nsswitch.conf"
    files_only.write_text("hosts: files\n")
    done = ntpdate(
        network, "no-such-host.invalid", clock, f"mount --bind {files_only} /etc/nsswitch.conf && "
    )
    assert done.returncode == 1
    first, second, last = done.stderr.splitlines()
    assert first == "Error resolving no-such-host.invalid: Name or service not known (-2)"
    assert re.fullmatch(
        PREFIX + "Can't find host no-such-host.invalid: Name or service not known \\(-2\\)", second
    )
    assert re.fullmatch(PREFIX + "no servers can be used, exiting", last)
    empty = ntpdate(network, "", clock)
    assert empty.returncode == 1
    assert re.fullmatch(PREFIX + "no servers can be used, exiting\n", empty.stderr)


def test_unusable_resolver_exits_at_once(network: NtpNetwork, clock: Path) -> None:
    done = ntpdate(network, "no-such-host.invalid 10.201.7.1", clock)
    assert done.returncode == 1
    reason = "name server cannot be used: Temporary failure in name resolution \\(-3\\)"
    assert re.fullmatch(f"Exiting, {reason}{PREFIX}{reason}\n", done.stderr)
    assert read_clock_offset(clock) == -10800


@pytest.mark.parametrize("args", ["-x 10.201.7.1", "-p 9 10.201.7.1", "-t soon 10.201.7.1", "-p"])
def test_usage_errors_exit_2(network: NtpNetwork, clock: Path, args: str) -> None:
    done = ntpdate(network, args, clock)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].startswith("usage: ntpdate [-46bBdqsuv]")


def test_syslog_mode_prints_nothing(network: NtpNetwork, clock: Path) -> None:
    done = ntpdate(network, "-s -p 1 10.201.7.1", clock)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert read_clock_offset(clock) == pytest.approx(0, abs=1)


def test_debug_prints_exchanges_and_never_sets(network: NtpNetwork, clock: Path) -> None:
    done = ntpdate(network, "-d -p 1 10.201.7.1", clock)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["transmit(10.201.7.1)", "receive(10.201.7.1)"]
    assert result_line(done.stdout)[0] == "step"
    assert read_clock_offset(clock) == -10800


def test_real_clock_without_cap_sys_time_is_refused(network: NtpNetwork) -> None:
    with real_clock_unchanged():
        done = ntpdate(network, "-p 1 -b 10.201.7.1", None)
    assert done.returncode == 1
    assert re.fullmatch(PREFIX + r"step-systime: Operation not permitted\n", done.stderr)
    assert done.stdout == ""
