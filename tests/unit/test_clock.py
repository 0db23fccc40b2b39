"""Reference time (against a fake NTP server on loopback), readings, Cristian's estimate, the session."""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ntpfakes import Behaviour, FakeNTP

from runbook import clock
from runbook.errors import NTPUnavailable
from runbook.facts import parse_facts
from runbook.probe import probe_command, split_sections
from runbook.results import CommandRecord
from runbook.settings import BackupSettings, build_settings


@pytest.fixture
def ntp() -> Iterator[FakeNTP]:
    server = FakeNTP()
    clock._cache.clear()
    yield server
    server.close()
    clock._cache.clear()


def settings_for_servers(port: int, *servers: str) -> Any:
    return build_settings({"ntp_servers": list(servers), "ntp_port": port, "ntp_timeout": 0.3})


def test_reference_reads_the_controller_offset(ntp: FakeNTP) -> None:
    ntp.behaviour.offset = 2.5
    ref = clock.reference_time(settings_for_servers(ntp.port, "127.0.0.1"))
    assert ref.offset == pytest.approx(2.5, abs=ref.delay / 2 + 0.005)
    assert ref.stratum == 2 and ref.server == "127.0.0.1" and ref.delay >= 0
    assert ref.now() == pytest.approx(time.time() + 2.5, abs=ref.delay / 2 + 0.05)


def test_reference_is_cached(ntp: FakeNTP) -> None:
    settings = settings_for_servers(ntp.port, "127.0.0.1")
    first = clock.reference_time(settings)
    assert clock.reference_time(settings) is first and ntp.queries == 1
    assert clock.reference_time(settings, max_age=0) is not first


@pytest.mark.parametrize(
    ("behaviour", "said"),
    [
        (Behaviour(kiss="RATE"), "kiss-o'-death (RATE)"),
        (Behaviour(kiss="DENY"), "access denied"),
        (Behaviour(stratum=16), "not synchronised (stratum 16"),
        (Behaviour(leap=3), "leap 3"),
        (Behaviour(silent=True), "no reply within 0.3 s"),
    ],
)
def test_unusable_answers_fall_back_then_fail_clearly(ntp: FakeNTP, behaviour: Behaviour, said: str) -> None:
    ntp.behaviour = behaviour
    with pytest.raises(NTPUnavailable) as caught:
        clock.reference_time(settings_for_servers(ntp.port, "127.0.0.1", "127.0.0.1"))
    assert said in str(caught.value) and str(caught.value).count("127.0.0.1:") == 2


def test_next_server_answers(ntp: FakeNTP) -> None:
    ref = clock.reference_time(settings_for_servers(ntp.port, "name.invalid", "127.0.0.1"))
    assert ref.server == "127.0.0.1"


# -- readings and the estimate ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "half"),
    [
        ("1503364325.123456789", 1503364325.123456789, 5e-10),
        ("1503364325.123456", 1503364325.123456, 5e-7),
        ("1503364325", 1503364325.5, 0.5),
        ("1503364325.%N", 1503364325.5, 0.5),  # BusyBox date without %N
        ("1503364325.N", 1503364325.5, 0.5),
        ("  1503364325.5\r", 1503364325.55, 0.05),
    ],
)
def test_readings(text: str, value: float, half: float) -> None:
    reading = clock.parse_time_reading(text)
    assert reading is not None
    assert reading[0] == pytest.approx(value, abs=1e-6) and reading[1] == pytest.approx(half)


@pytest.mark.parametrize("text", ["", "garbage", "2017年 8月 22日 火曜日 06:12:05 JST", "-5", "1.2.3", "١٢٣"])
def test_garbage_readings(text: str) -> None:
    assert clock.parse_time_reading(text) is None


def test_best_sample_keeps_the_smallest_round_trip() -> None:
    timings = [
        clock.Timing(100.0, 0.010, "90.000"),
        clock.Timing(101.0, 0.002, "91.000"),
        clock.Timing(102.0, 0.001, "junk"),
        clock.Timing(103.0, 0.005, "93.000"),
    ]
    sample = clock.best_sample("epochrealtime", timings)
    assert sample is not None
    assert sample.wall == 101.0 and sample.rtt == 0.002 and sample.samples == 3
    assert clock.best_sample("date", [clock.Timing(1.0, 0.1, "x")]) is None


def test_measure_sign_and_bound() -> None:
    sample = clock.ClockSample(remote=1000.0, wall=11800.0, rtt=0.004, granularity=0.0, method="m", samples=5)
    ref = clock.Reference("s", 2, offset=0.5, delay=0.002, measured_at=0)
    m = clock.measure(sample, ref)
    assert m.offset == pytest.approx(10800.5)  # host behind: positive
    assert m.bound == pytest.approx(0.002 + 0.001)
    assert m.reference_time == 11800.5 and m.host_time == 1000.0


def test_whole_second_readings_widen_the_bound() -> None:
    sample = clock.best_sample("date", [clock.Timing(50.0, 0.004, "40.%N")])
    assert sample is not None and "whole seconds" in sample.method
    m = clock.measure(sample, clock.Reference("s", 2, 0.0, 0.0, 0))
    assert m.bound == pytest.approx(0.502) and m.offset == pytest.approx(9.5)


def test_batch_sample_bound_is_the_whole_command() -> None:
    record = CommandRecord(
        "x", 0, stdout="@@runbook:clock@@\ndate\n10.1\n10.2\n10.3\n", started=100.0, duration=0.4
    )
    sample = clock.batch_sample(record)
    assert sample is not None
    assert sample.wall == pytest.approx(100.2) and sample.rtt == 0.4 and sample.samples == 3
    assert sample.remote == pytest.approx(10.25)
    assert clock.batch_sample(CommandRecord("x", 1, stdout="10.1")) is None


def test_describe_offset() -> None:
    assert clock.describe_offset(10800.4, 0.0002) == "host clock 10,800.4 s behind (±0.2 ms)"
    assert clock.describe_offset(-0.25, 0.02) == "host clock 250.0 ms ahead (±20 ms)"
    assert clock.describe_offset(0.001, 0.002).startswith("host clock in step")
    assert clock.describe_offset(3.0, 0.7) == "host clock 3.0 s behind (±700 ms)"
    assert clock.describe_offset(30.0, 1.5) == "host clock 30.0 s behind (±1.5 s)"


# -- the session, over a channel that runs the command locally -------------------------------


class LocalChannel:
    """Enough of a paramiko Channel, running the command in a local shell."""

    def __init__(self, env: dict[str, str] | None) -> None:
        self.env = env
        self.timeout: float | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def settimeout(self, timeout: float) -> None:
        self.timeout = timeout

    def exec_command(self, command: str) -> None:
        self.process = subprocess.Popen(
            command,
            shell=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env,
        )

    def _read(self, stream: Any) -> bytes:
        ready, _, _ = select.select([stream], [], [], self.timeout)
        if not ready:
            raise TimeoutError("timed out")
        return os.read(stream.fileno(), 65536)

    def recv(self, size: int) -> bytes:
        assert self.process and self.process.stdout
        return self._read(self.process.stdout)

    def recv_stderr(self, size: int) -> bytes:
        assert self.process and self.process.stderr
        return self._read(self.process.stderr)

    def sendall(self, data: bytes) -> None:
        assert self.process and self.process.stdin
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def shutdown_write(self) -> None:
        assert self.process and self.process.stdin
        self.process.stdin.close()

    def recv_exit_status(self) -> int:
        assert self.process
        return self.process.wait()

    def close(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class LocalConnection:
    """A stand-in for a Fabric Connection: ``open()`` and ``client.get_transport().open_session()``."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = env
        self.client = self
        self.sock = None

    def open(self) -> None:
        pass

    def get_transport(self) -> LocalConnection:
        return self

    def open_session(self) -> LocalChannel:
        return LocalChannel(self.env)


def run_session(
    env: dict[str, str] | None = None, **backup: Any
) -> tuple[CommandRecord, str, list[clock.Timing]]:
    settings = build_settings({"samples": 7})
    if backup:
        settings = build_settings({"samples": 7, "backup": {"command": "true", **backup}})
    command = probe_command(settings, clock_loop=True)
    return clock.sample_session(LocalConnection(env), command, settings.ntp.samples, 10.0)


@pytest.mark.host_clock
def test_session_samples_then_probes() -> None:
    record, method, timings = run_session()
    assert record.exit_code == 0, record
    assert method in {"epochrealtime", "date"} and len(timings) == 7
    sample = clock.best_sample(method, timings)
    assert sample is not None and sample.samples == 7
    m = clock.measure(sample, clock.Reference("local", 2, 0.0, 0.0, time.time()))
    assert abs(m.offset) <= m.bound < 0.005
    sections = split_sections(record.stdout)
    assert len(sections["clock"].splitlines()) == 8  # method + 7 answers
    facts = parse_facts(sections, None, sample)
    assert facts.hostname == socket.gethostname()


def test_session_falls_back_to_date_without_bash(tmp_path: Path) -> None:
    for tool in ("sh", "date", "uname", "cat", "sed", "head", "grep"):
        found = shutil.which(tool)
        assert found
        (tmp_path / tool).symlink_to(found)
    record, method, timings = run_session(env={"PATH": str(tmp_path)})
    assert method == "date" and len(timings) == 7, record
    sample = clock.best_sample(method, timings)
    assert sample is not None and sample.granularity < 1e-6


def test_session_output_that_is_not_utf8_is_kept_readable() -> None:
    record, _, _ = run_session(check_command=r"printf 'ok \377\376 bytes\n'")
    assert record.exit_code == 0
    assert "ok \ufffd\ufffd bytes" in split_sections(record.stdout)["backup.check"]


def test_session_timeout_is_recorded() -> None:
    record, method, timings = clock.sample_session(LocalConnection(), "sleep 5", 3, 0.2)
    assert record.exit_code is None and "timed out" in record.note
    assert method == "" and timings == []


def test_session_without_a_clock_header_takes_no_samples() -> None:
    record, method, timings = clock.sample_session(LocalConnection(), "echo hello", 3, 5)
    assert record.exit_code == 0 and method == "" and timings == [] and record.stdout == "hello\n"


def test_has_transport() -> None:
    from invoke.context import Context, MockContext

    assert clock.has_transport(LocalConnection()) is True  # type: ignore[arg-type]
    assert clock.has_transport(Context()) is False and clock.has_transport(MockContext()) is False


def test_hostile_backup_values_run_nothing_unintended(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = [
        f"x; touch {marker}",
        f"$(touch {marker})",
        f"`touch {marker}`",
        f"x\ntouch {marker}",
        f"x' ; touch {marker}; '",
        f'x" ; touch {marker}; "',
    ]
    for value in hostile:
        evidence = tmp_path / value.replace("/", "_")
        evidence.write_text("1503364325\n")
        settings = build_settings(
            {"ntp_servers": ["ntp.test"], "backup": BackupSettings(value, evidence_file=str(evidence))}
        )
        command = probe_command(settings, clock_loop=True)
        record, _, _ = clock.sample_session(LocalConnection(), command, 1, 10.0)
        assert record.exit_code == 0
        facts = parse_facts(split_sections(record.stdout), settings.backup, None)
        assert facts.backup is not None and facts.backup.last_success == 1503364325.0, value
        assert not marker.exists(), value


def test_session_sends_the_last_line_after_the_samples() -> None:
    seen: list[tuple[str, int]] = []

    def last_line(method: str, timings: list[clock.Timing]) -> str:
        seen.append((method, len(timings)))
        return "boot"

    command = (
        "printf '@@runbook:clock@@\\nepochrealtime\\n'; "
        'while IFS= read -r l && [ -z "$l" ]; do echo 1700000000.5; done; echo "last=$l"'
    )
    record, _, timings = clock.sample_session(LocalConnection(None), command, 3, 10.0, last_line)
    assert seen == [("epochrealtime", 3)] and len(timings) == 3
    assert record.stdout.endswith("last=boot\n") and record.round_trips == 4


def _timings(start: float, step: float, readings: list[str], rtt: float = 0.002) -> list[clock.Timing]:
    return [clock.Timing(start + i * step, rtt, reading) for i, reading in enumerate(readings)]


def test_whole_seconds_are_timed_at_the_edge_of_the_second() -> None:
    # the host's second 1700000001 began between the 3rd and 4th request (10 ms apart)
    timings = _timings(
        100.0, 0.010, ["1700000000.", "1700000000.", "1700000000.", "1700000001.", "1700000001."]
    )
    sample = clock.best_sample("date", timings)
    assert sample is not None
    assert sample.method == "date (whole seconds, timed at the edge of the second)"
    assert sample.remote == 1700000001.0
    assert sample.wall == pytest.approx((100.020 - 0.001 + 100.030 + 0.001) / 2)
    assert sample.rtt == pytest.approx(0.012) and sample.granularity == 0.0
    reference = clock.Reference(server="s", stratum=2, offset=0.0, delay=0.0, measured_at=0.0)
    assert clock.measure(sample, reference).bound == pytest.approx(0.006, abs=0.002)


def test_whole_seconds_without_an_edge_keep_half_a_second_of_bound() -> None:
    sample = clock.best_sample("date", _timings(100.0, 0.010, ["1700000000.%N"] * 3))
    assert sample is not None
    assert sample.granularity == 0.5 and sample.method == "date (whole seconds)"
    assert clock.whole_seconds(_timings(0, 1, ["1700000000."]))
    assert not clock.whole_seconds(_timings(0, 1, ["1700000000.123"]))
