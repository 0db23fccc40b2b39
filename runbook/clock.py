"""True time on the controller (ntplib) and a host's clock offset (Cristian's algorithm).

Sign convention everywhere: an offset is ``true time - clock``, so a positive offset means
the clock is behind (as ntpdate and ntplib print it).

``reference_time`` asks the configured NTP servers in order until up to three gave a sane
answer (``runbook.ntpquery`` checks each reply), refuses when they disagree by more than
``max_offset`` and otherwise keeps the median, naming what every server said; the result is
cached for ``REFERENCE_TTL`` seconds of the monotonic clock, so a fleet run asks once.
``sample_session`` runs the probe over a Fabric connection's paramiko transport and, in that
one remote session, sends a line per sample and times the host's answer; ``best_sample``
keeps the smallest round trip. ``measure`` combines a sample with the reference: the bound
is half the round trip, plus the reading's granularity, plus the controller's own NTP error
(half the NTP delay).
"""

from __future__ import annotations

import codecs
import itertools
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from invoke.context import Context

from runbook.commands import host_timeout
from runbook.errors import NTPUnavailable
from runbook.ntpquery import NTPExchangeError, exchange
from runbook.output import CappedText
from runbook.results import CommandRecord
from runbook.settings import Settings

REFERENCE_TTL = 64.0
"""Seconds a reference answer is reused: NTP etiquette is no polling below 64 s."""
MAX_SERVERS = 3
"""How many servers that answered are compared for the reference."""

_READING = re.compile(r"^\s*(\d+)(?:[.,](\d*|%?N))?\s*$", re.ASCII)
EDGE_WAIT = 1.2
"""How long (s) a session keeps asking a whole-seconds clock until its second changes."""
_STOP_KISSES = {"DENY", "RSTR"}


@dataclass(frozen=True)
class Reference:
    """The controller's clock against NTP: ``offset`` (+ = controller behind) and the query's delay."""

    server: str
    stratum: int
    offset: float
    delay: float
    measured_at: float
    answers: tuple[str, ...] = ()
    """What each server asked said (``server: offset …`` or its problem), in the order asked."""

    @property
    def error(self) -> float:
        """The bound on ``offset``: half the round trip to the server."""
        return self.delay / 2

    def now(self) -> float:
        """True time now, as epoch seconds."""
        return time.time() + self.offset


@dataclass(frozen=True)
class Timing:
    """One clock request in a session: controller wall time at the midpoint, round trip, reply."""

    wall: float
    rtt: float
    reply: str


@dataclass(frozen=True)
class ClockSample:
    """The best reading of a host's clock: host time, controller time at that moment, its bound.

    ``remote`` is already moved to the middle of the reading's granularity (a whole-second
    ``date`` reading ``S`` becomes ``S + 0.5``) and ``granularity`` is that half step.
    """

    remote: float
    wall: float
    rtt: float
    granularity: float
    method: str
    samples: int


@dataclass(frozen=True)
class Measurement:
    """A host's offset from true time (+ = host behind) with its error bound, and how it was found."""

    offset: float
    bound: float
    host_time: float
    reference_time: float
    server: str
    stratum: int
    controller_offset: float
    samples: int
    rtt: float
    method: str
    ntp_answers: tuple[str, ...] = ()

    def data(self) -> dict[str, Any]:
        """The step data keys (JSON values)."""
        return {
            "offset": self.offset,
            "bound": self.bound,
            "host_time": self.host_time,
            "reference_time": self.reference_time,
            "server": self.server,
            "stratum": self.stratum,
            "controller_offset": self.controller_offset,
            "samples": self.samples,
            "rtt": self.rtt,
            "method": self.method,
            "ntp_answers": list(self.ntp_answers),
        }


def format_bound(bound: float) -> str:
    """An error bound as every message says it: ``±0.1 ms``, ``±12 ms``, ``±1.5 s``."""
    if bound >= 1:
        return f"±{bound:,.1f} s"
    return f"±{bound * 1000:.1f} ms" if bound < 0.01 else f"±{bound * 1000:,.0f} ms"


def describe_offset(offset: float, bound: float) -> str:
    """``host clock 10,800.4 s behind (±2 ms)``; ``ahead``; ``in step`` when within the bound."""
    margin = format_bound(bound)
    if abs(offset) <= bound:
        return f"host clock in step ({offset:+.3f} s, {margin})"
    side = "behind" if offset > 0 else "ahead"
    size = f"{abs(offset):,.1f} s" if abs(offset) >= 1 else f"{abs(offset) * 1000:,.1f} ms"
    return f"host clock {size} {side} ({margin})"


# -- the controller's reference -------------------------------------------------------------

_cache: dict[tuple[tuple[str, ...], int, float], tuple[float, Reference]] = {}
"""Per servers, port and limit: (monotonic time of the answer, the reference)."""
_cache_lock = threading.Lock()


def reference_time(settings: Settings, *, max_age: float = REFERENCE_TTL) -> Reference:
    """The controller's offset from ``settings.ntp.servers`` (reused for ``max_age`` seconds).

    Servers are asked in order until ``MAX_SERVERS`` gave a sane answer; Kiss-o'-Death,
    unsynchronised (stratum 0 or 16, leap 3) and unchecked replies count as problems. Two or
    more answers that differ by more than ``settings.ntp.max_offset`` are refused; otherwise the
    median answer is kept (of two, the one with the smaller delay). Raises ``NTPUnavailable``
    naming every server's answer or problem.
    """
    key = (settings.ntp.servers, settings.ntp.port, settings.ntp.max_offset)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and time.monotonic() - cached[0] <= max_age:
            return cached[1]
        asked = time.monotonic()
        reference = _consensus(settings)
        _cache[key] = (asked, reference)
        return reference


def _consensus(settings: Settings) -> Reference:
    answers: list[Reference] = []
    said: list[str] = []
    for server in settings.ntp.servers:
        if len(answers) == MAX_SERVERS:
            break
        try:
            reference = query_server(server, port=settings.ntp.port, timeout=settings.ntp.timeout)
        except NTPUnavailable as exc:
            said.append(str(exc))
            continue
        answers.append(reference)
        said.append(
            f"{server}: offset {reference.offset:+.6f} s, delay {reference.delay * 1000:.1f} ms, "
            f"stratum {reference.stratum}"
        )
    if not answers:
        raise NTPUnavailable("no NTP server answered usably: " + "; ".join(said))
    by_offset = sorted(answers, key=lambda answer: answer.offset)
    spread = by_offset[-1].offset - by_offset[0].offset
    if spread > settings.ntp.max_offset:
        raise NTPUnavailable(
            f"NTP servers disagree by {spread:,.3f} s, more than max_offset ({settings.ntp.max_offset:g} s): "
            + "; ".join(said)
            + ": fix or drop the wrong server"
        )
    if len(answers) % 2:
        chosen = by_offset[len(answers) // 2]
    else:
        chosen = min(answers, key=lambda answer: answer.delay)
    return replace(chosen, answers=tuple(said))


def query_server(server: str, *, port: int = 123, timeout: float = 5.0) -> Reference:
    """One checked NTPv4 query of ``server``; raises ``NTPUnavailable`` for no answer or an unusable one."""
    try:
        stats = exchange(server, port=port, timeout=timeout)
    except NTPExchangeError as exc:
        raise NTPUnavailable(f"{server}: {exc}") from None
    stratum, leap = stats.stratum, stats.leap
    if stratum == 0:
        kiss = stats.ref_id.to_bytes(4, "big").decode("ascii", "replace").strip("\x00 ")
        advice = "access denied, not asking again" if kiss in _STOP_KISSES else "kiss-o'-death"
        raise NTPUnavailable(f"{server}: {advice} ({kiss or 'no code'})")
    if stratum >= 16 or leap == 3:
        raise NTPUnavailable(f"{server}: not synchronised (stratum {stratum}, leap {leap})")
    return Reference(
        server=server,
        stratum=stratum,
        offset=stats.offset,
        delay=stats.delay,
        measured_at=time.time(),
    )


# -- the host's clock -----------------------------------------------------------------------


def parse_time_reading(text: str) -> tuple[float, float] | None:
    """``(time, half_step)`` from ``1700000000.123456789`` / ``1700000000.123456`` / ``1700000000``.

    A literal ``%N`` or ``N`` fraction, or none after the dot (BusyBox ``date`` without
    nanoseconds: ``1700000000.``), counts as whole seconds. The time is moved to the middle of
    the reading's step. ``None`` for garbage.
    """
    found = _READING.match(text)
    if found is None:
        return None
    whole, fraction = found.group(1), found.group(2) or ""
    if fraction.isdigit():
        half = 0.5 * 10.0 ** -len(fraction)
        return float(f"{whole}.{fraction}") + half, half
    return float(whole) + 0.5, 0.5


def edge_sample(method: str, timings: list[Timing]) -> ClockSample | None:
    """Whole-second readings timed at the edge of the host's second, or ``None`` when none changed.

    When consecutive readings go from ``S`` to ``S + 1``, the host's second ``S + 1`` began after the
    first request left and before the second answer came back: the sample is that instant, at the
    middle of the narrowest such interval, and its bound is half the interval (``rtt`` holds its
    width; no granularity is added).
    """
    best: ClockSample | None = None
    for before, after in itertools.pairwise(timings):
        first, second = parse_time_reading(before.reply), parse_time_reading(after.reply)
        if first is None or second is None or first[1] != 0.5 or second[1] != 0.5:
            continue
        if second[0] - first[0] != 1:
            continue
        start, end = before.wall - before.rtt / 2, after.wall + after.rtt / 2
        if best is None or end - start < best.rtt:
            best = ClockSample(second[0] - 0.5, (start + end) / 2, end - start, 0.0, method, 0)
    if best is None:
        return None
    label = f"{method} (whole seconds, timed at the edge of the second)"
    return ClockSample(best.remote, best.wall, best.rtt, 0.0, label, len(timings))


def whole_seconds(timings: list[Timing]) -> bool:
    """Whether the host's clock readings so far have no sub-second part (and there are some)."""
    readings = [parse_time_reading(timing.reply) for timing in timings]
    return bool(readings) and all(reading is not None and reading[1] == 0.5 for reading in readings)


def best_sample(method: str, timings: list[Timing]) -> ClockSample | None:
    """The valid reading with the smallest round trip, or ``None`` when none is valid.

    Whole-second readings that straddle a change of second are timed at that edge
    (``edge_sample``) when that bounds the reading better than half a second.
    """
    edge = edge_sample(method, timings)
    if edge is not None and edge.rtt / 2 < 0.5:
        return edge
    best: ClockSample | None = None
    valid = 0
    for timing in timings:
        reading = parse_time_reading(timing.reply)
        if reading is None:
            continue
        valid += 1
        if best is None or timing.rtt < best.rtt:
            remote, half = reading
            best = ClockSample(remote, timing.wall, timing.rtt, half, method, 0)
    if best is None:
        return None
    label = best.method if best.granularity < 0.5 else f"{best.method} (whole seconds)"
    return ClockSample(best.remote, best.wall, best.rtt, best.granularity, label, valid)


def batch_sample(record: CommandRecord) -> ClockSample | None:
    """A sample from a non-interactive clock command: the middle reading, bounded by the whole run."""
    lines = [line for line in record.stdout.splitlines() if parse_time_reading(line) is not None]
    if record.exit_code != 0 or not lines:
        return None
    middle = Timing(record.started + record.duration / 2, record.duration, lines[len(lines) // 2])
    sample = best_sample("date (one command)", [middle])
    return (
        None
        if sample is None
        else ClockSample(
            sample.remote, sample.wall, sample.rtt, sample.granularity, sample.method, len(lines)
        )
    )


def measure(sample: ClockSample, reference: Reference) -> Measurement:
    """Cristian's estimate: true time at the sample's midpoint minus the host's reading."""
    true_time = sample.wall + reference.offset
    return Measurement(
        offset=true_time - sample.remote,
        bound=sample.rtt / 2 + sample.granularity + reference.error,
        host_time=sample.remote,
        reference_time=true_time,
        server=reference.server,
        stratum=reference.stratum,
        controller_offset=reference.offset,
        samples=sample.samples,
        rtt=sample.rtt,
        method=sample.method,
        ntp_answers=reference.answers,
    )


def has_transport(c: Context) -> bool:
    """Whether ``c`` is a Fabric connection (a paramiko transport can be opened for a session)."""
    return hasattr(c, "client") and hasattr(c, "open")


def sample_session(
    c: Any,
    command: str,
    samples: int,
    timeout: float,
    last_line: Callable[[str, list[Timing]], str] | None = None,
    shell: str = "sh",
) -> tuple[CommandRecord, str, list[Timing]]:
    """Run ``command`` (a probe with ``clock_loop``) in one session on ``c``'s transport.

    Waits for the clock header and method line, sends ``samples`` request lines, timing each
    answer (when every answer is whole seconds, more requests for up to ``EDGE_WAIT`` s, until
    the host's second changes), then the line ``last_line(method, timings)`` if given (no answer
    awaited), then ends stdin and reads the rest. Returns the command record (stdout decoded as
    UTF-8 with replacement, within ``runbook.output``'s limit), the method and the timings. On
    the host the command runs under ``host_timeout`` (by ``shell`` when the host has it): ended
    with its processes after ``timeout`` seconds. Connection errors propagate after the record
    is marked unfinished; a timeout here closes the channel.
    """
    record = CommandRecord(command=command, exit_code=None, started=time.time())
    clock = time.monotonic()
    c.open()
    transport = c.client.get_transport()
    _no_delay(transport)
    channel = transport.open_session()
    out = _Output()
    timings: list[Timing] = []
    method = ""
    try:
        channel.settimeout(timeout)
        channel.exec_command(host_timeout(command, timeout, shell))
        reader = _LineReader(channel, out)
        if reader.until_clock_header():
            method = reader.line() or ""

        def ask() -> bool:
            wall, sent = time.time(), time.monotonic()
            channel.sendall(b"\n")
            reply = reader.line()
            rtt = time.monotonic() - sent
            if reply is not None:
                timings.append(Timing(wall + rtt / 2, rtt, reply))
            return reply is not None

        for _ in range(samples if method else 0):
            if not ask():
                break
        # a clock without sub-seconds: keep asking until its second changes, to time that edge
        edge_by = time.monotonic() + EDGE_WAIT
        while (
            len(timings) >= samples
            and whole_seconds(timings)
            and edge_sample(method, timings) is None
            and time.monotonic() < edge_by
        ):
            if not ask():
                break
        record.round_trips = 1 + len(timings)
        if last_line is not None:
            channel.sendall(last_line(method, timings).encode() + b"\n")
        channel.shutdown_write()
        reader.drain()
        record.stderr = _drain_stderr(channel)
        record.exit_code = channel.recv_exit_status()
    except TimeoutError:
        record.note = f"timed out after {timeout:g} s"
    except BaseException as exc:
        record.note = f"did not finish: {type(exc).__name__}: {exc}"
        raise
    finally:
        channel.close()
        record.stdout = out.text()
        record.duration = time.monotonic() - clock
    return record, method, timings


class _Output:
    """A channel's stdout decoded as it comes (UTF-8, replacement), kept within the limit."""

    def __init__(self) -> None:
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.kept = CappedText()

    def __iadd__(self, chunk: bytes) -> _Output:
        self.kept.add(self.decoder.decode(chunk))
        return self

    def text(self) -> str:
        self.kept.add(self.decoder.decode(b"", final=True))
        return self.kept.text()


class _LineReader:
    """Lines from a channel's stdout, keeping what was read in ``out``."""

    def __init__(self, channel: Any, out: _Output) -> None:
        self.channel = channel
        self.out = out
        self.pending = b""

    def line(self) -> str | None:
        """The next line, stripped; ``None`` at the end of the output."""
        while b"\n" not in self.pending:
            chunk: bytes = self.channel.recv(65536)
            if not chunk:
                return None
            self.out += chunk
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return line.decode("utf-8", "replace").strip()

    def until_clock_header(self) -> bool:
        """Skip lines up to and including ``@@runbook:clock@@``; ``False`` if the output ended first."""
        while (line := self.line()) is not None:
            if line == "@@runbook:clock@@":
                return True
        return False

    def drain(self) -> None:
        """Read the rest of stdout into ``out``."""
        while chunk := self.channel.recv(65536):
            self.out += chunk


def _drain_stderr(channel: Any) -> str:
    data = _Output()
    while True:
        chunk: bytes = channel.recv_stderr(65536)
        if not chunk:
            return data.text()
        data += chunk


def _no_delay(transport: Any) -> None:
    """Send each small request at once (no Nagle delay): the round trip is the bound."""
    sock = getattr(transport, "sock", None)
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
