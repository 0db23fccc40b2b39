"""ntpd's sync state in the probe: the mode 6 readvar over bash's /dev/udp, and its fallbacks.

A local UDP server stands in for ntpd's control port; the probe's own shell text runs
against it (only the port differs), with a fake ``ntpq`` that leaves a mark when called.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook.facts import parse_daemon, parse_sync
from runbook.probe import split_sections
from runbook.shell import prelude, read

SYNCED = (
    bytes.fromhex("1682000100140000000000")
    + bytes([0x42])
    + (b"leap=0, stratum=3, refid=10.205.0.2, peer=17767, offset=0.945260\r\n\x00\x00")
)
STARTING = (
    bytes.fromhex("d6820001c0160000000000")
    + bytes([0x39])
    + (b"leap=3, stratum=16, refid=INIT, peer=0, offset=0.000000\r\n\x00\x00\x00")
)
ERROR = bytes.fromhex("16c2000102000000000001d40000")
NTPQ = (
    "echo called >> {mark}\n"
    'echo "     remote           refid      st t when poll reach   delay   offset  jitter"\n'
    'echo "*10.9.9.9        .LOCL.           1 u   12   64    1    0.123    0.456   0.012"\n'
)


Port = tuple[int, list[bytes], list[bytes]]
"""The server's port, the replies it will send, the requests it got."""


@pytest.fixture
def control_port() -> Iterator[Port]:
    """A UDP server on 127.0.0.1 answering each datagram with the next queued reply (none: silence)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    replies: list[bytes] = []
    requests: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            requests.append(data)
            if replies:
                sock.sendto(replies.pop(0), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1], replies, requests
    stop.set()
    thread.join()
    sock.close()


def run_sync(shell: str, port: int, tmp_path: Path) -> tuple[dict[str, str], bool]:
    """The probe's readvar and ntpd sync fragment for a running ntpd: (sections, whether ntpq ran)."""
    mark = tmp_path / "ntpq-called"
    ntpq = tmp_path / "ntpq"
    ntpq.write_text("#!/bin/sh\n" + NTPQ.format(mark=mark))
    ntpq.chmod(0o755)
    fragment = read("runbook.daemons", "ntp.sh")
    readvar = fragment.replace("/dev/udp/127.0.0.1/123", f"/dev/udp/127.0.0.1/{port}")
    assert readvar != fragment
    script = prelude() + 'rb_tok=\nrb_running=" ntpd"\n' + readvar
    done = subprocess.run(
        [shell, "-c", script],
        env={"PATH": f"{tmp_path}:/usr/bin:/bin", "LC_ALL": "C"},
        capture_output=True,
        timeout=30,
        check=True,
    )
    return split_sections(done.stdout.decode()), mark.exists()


def test_a_well_formed_answer_is_used_and_ntpq_is_not_run(control_port: Port, tmp_path: Path) -> None:
    port, replies, requests = control_port
    replies.append(SYNCED)
    sections, ntpq_ran = run_sync("bash", port, tmp_path)
    state = parse_sync(sections)
    assert (state.synchronised, state.peer, state.source) == (True, "10.205.0.2", "readvar")
    assert not ntpq_ran and "sync.ntpq" not in sections
    request = requests[0]
    assert request[:2] == b"\x16\x02" and request[12:42] == b"leap,stratum,refid,peer,offset"
    assert int.from_bytes(request[10:12], "big") == 30 and len(request) % 4 == 0


def test_an_unsynchronised_daemon_answers_with_the_alarm_bits(control_port: Port, tmp_path: Path) -> None:
    port, replies, _ = control_port
    replies.append(STARTING)
    sections, ntpq_ran = run_sync("bash", port, tmp_path)
    state = parse_sync(sections)
    assert (state.synchronised, state.source) == (False, "readvar") and not ntpq_ran


@pytest.mark.parametrize("reply", [ERROR, None], ids=["error-reply", "no-reply"])
def test_no_usable_answer_falls_back_to_ntpq(control_port: Port, tmp_path: Path, reply: bytes | None) -> None:
    port, replies, _ = control_port
    if reply is not None:
        replies.append(reply)
    sections, ntpq_ran = run_sync("bash", port, tmp_path)
    state = parse_sync(sections)
    assert ntpq_ran and (state.synchronised, state.peer, state.source) == (True, "10.9.9.9", "ntpq")


def test_without_bash_ntpq_answers(control_port: Port, tmp_path: Path) -> None:
    port, replies, requests = control_port
    replies.append(SYNCED)
    sections, ntpq_ran = run_sync("dash", port, tmp_path)
    assert ntpq_ran and "sync.readvar" not in sections and requests == []
    assert parse_sync(sections).source == "ntpq"


def test_a_live_pid_of_the_daemon_proves_it_runs_without_the_init_script() -> None:
    base = {"init": "sysv", "daemon.ntpd.enabled": "ntpd 0:off 2:on", "daemon.ntpd.enabled.rc": "0"}
    fields = "installed=yes\nservice=ntpd\npidfile=running\npid=473\ncomm={comm}"
    running = parse_daemon({**base, "daemon.ntpd": fields.format(comm="ntpd")}, "ntpd")
    assert running.running and running.status == "pid 473 (ntpd) from /var/run/ntpd.pid"
    assert running.status_rc is None and running.enabled
    reused = parse_daemon({**base, "daemon.ntpd": fields.format(comm="httpd")}, "ntpd")
    assert not reused.running and "(httpd)" in reused.status
    asked = parse_daemon(
        {**base, "daemon.ntpd": "installed=yes\nservice=ntpd\npidfile=stale", "daemon.ntpd.status.rc": "1"},
        "ntpd",
    )
    assert not asked.running and asked.status_rc == 1
