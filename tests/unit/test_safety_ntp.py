"""Issue 12, items 6 and 16: NTP answers are checked and compared; the reference's age is monotonic."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from ntpfakes import Behaviour, FakeNTP

from runbook import clock
from runbook.errors import NTPUnavailable
from runbook.settings import Settings, build_settings

ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")


@pytest.fixture
def servers() -> Iterator[list[FakeNTP]]:
    """Four fake NTP servers on the same port of four loopback addresses."""
    first = FakeNTP(ADDRESSES[0])
    fakes = [first, *(FakeNTP(address, first.port) for address in ADDRESSES[1:])]
    clock._cache.clear()
    yield fakes
    for fake in fakes:
        fake.close()
    clock._cache.clear()


def settings(port: int, *addresses: str, max_offset: float = 0.5) -> Settings:
    return build_settings(
        {"ntp_servers": list(addresses), "ntp_port": port, "ntp_timeout": 0.3, "max_offset": max_offset}
    )


@pytest.mark.parametrize(
    ("behaviour", "said"),
    [
        (Behaviour(offset=1_000_000, wrong_origin=True), r"\(1 reply\(s\) not matching the request"),
        (Behaviour(held=10.0), "negative delay"),
        (Behaviour(held=-1.0), "sent 1.000000 s before the request was received"),
    ],
)
def test_a_reply_that_is_not_ours_or_impossible_is_refused(
    servers: list[FakeNTP], behaviour: Behaviour, said: str
) -> None:
    servers[0].behaviour = behaviour
    with pytest.raises(NTPUnavailable, match=said):
        clock.reference_time(settings(servers[0].port, ADDRESSES[0]))


def test_a_bad_reply_falls_back_to_an_honest_server(servers: list[FakeNTP]) -> None:
    servers[0].behaviour = Behaviour(offset=1_000_000, wrong_origin=True)
    reference = clock.reference_time(settings(servers[0].port, *ADDRESSES[:2]))
    assert reference.server == ADDRESSES[1] and abs(reference.offset) < 0.1
    assert "not matching the request" in reference.answers[0]
    assert reference.answers[1].startswith("127.0.0.2: offset ")


def test_three_servers_are_asked_and_the_median_is_kept(servers: list[FakeNTP]) -> None:
    for fake, offset in zip(servers, (0.0, 0.2, 0.1, 5.0), strict=True):
        fake.behaviour = Behaviour(offset=offset)
    reference = clock.reference_time(settings(servers[0].port, *ADDRESSES))
    assert reference.server == "127.0.0.3" and reference.offset == pytest.approx(0.1, abs=0.05)
    assert [answer.split(":")[0] for answer in reference.answers] == list(ADDRESSES[:3])
    assert all(", delay " in answer for answer in reference.answers)
    assert servers[3].queries == 0  # up to three servers


def test_servers_that_disagree_are_refused(servers: list[FakeNTP]) -> None:
    servers[0].behaviour = Behaviour(offset=0.0)
    servers[1].behaviour = Behaviour(offset=3600.0)
    disagree = r"NTP servers disagree by 3,600\.\d+ s, more than max_offset"
    with pytest.raises(NTPUnavailable, match=disagree):
        clock.reference_time(settings(servers[0].port, *ADDRESSES[:2]))


def test_the_record_says_which_servers_answered_what(servers: list[FakeNTP]) -> None:
    servers[1].behaviour = Behaviour(silent=True)
    reference = clock.reference_time(settings(servers[0].port, *ADDRESSES[:3]))
    now = time.time()
    sample = clock.ClockSample(remote=now, wall=now, rtt=0.001, granularity=0.0, method="t", samples=1)
    answers = clock.measure(sample, reference).data()["ntp_answers"]
    assert answers[0].startswith("127.0.0.1: offset ") and answers[2].startswith("127.0.0.3: offset ")
    assert answers[1] == "127.0.0.2: no reply within 0.3 s"


def test_the_reference_age_survives_a_controller_clock_step(
    servers: list[FakeNTP], monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = settings(servers[0].port, ADDRESSES[0])
    clock.reference_time(chosen)
    assert servers[0].queries == 1
    real_time, real_monotonic = time.time, time.monotonic
    monkeypatch.setattr(time, "time", lambda: real_time() - 3600.0)  # the controller's clock stepped back
    monkeypatch.setattr(time, "monotonic", lambda: real_monotonic() + clock.REFERENCE_TTL + 1)
    clock.reference_time(chosen)
    assert servers[0].queries == 2  # too old by the monotonic clock: asked again
