"""check_date and verify on MockContext hosts."""

from __future__ import annotations

import json

import pytest
from invoke.runners import Result

from runbook import clock
from runbook.errors import NTPUnavailable
from runbook.facts import forget_facts
from runbook.results import Outcome
from runbook.steps import check_date, verify_clock
from runbook.testing import (
    CLOCK,
    NTPQ_INIT,
    NTPQ_SYNCED,
    SYNC_WAIT,
    commands,
    fake_host,
    fixed_reference,
    probe_output,
)


@pytest.fixture(autouse=True)
def reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "reference_time", lambda settings, **_: fixed_reference(offset=0.25))


def test_check_date_measures_a_host_three_hours_behind() -> None:
    c = fake_host(offset=10800.4)
    result = check_date(c)
    assert result.outcome is Outcome.OK
    assert result.data["offset"] == pytest.approx(10800.4 + 0.25, abs=0.2)
    assert set(result.data) >= {
        "offset",
        "bound",
        "host_time",
        "reference_time",
        "server",
        "stratum",
        "controller_offset",
        "samples",
        "rtt",
    }
    assert result.data["controller_offset"] == 0.25 and result.data["samples"] == 3
    assert result.message.startswith("host clock 10,800.") and "behind" in result.message
    assert any("panic threshold" in w for w in result.warnings)
    json.dumps(result.to_dict())


def test_check_date_ahead_and_in_step() -> None:
    assert "ahead" in check_date(fake_host(offset=-120)).message
    assert "panic" not in " ".join(check_date(fake_host(offset=-120)).warnings)


def test_check_date_fails_when_no_ntp_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(settings: object, **_: object) -> clock.Reference:
        raise NTPUnavailable("no NTP server answered usably: ntp.test: timed out")

    monkeypatch.setattr(clock, "reference_time", unavailable)
    result = check_date(fake_host())
    assert result.failed and "ntp.test: timed out" in result.message


def test_check_date_fails_on_an_unreadable_clock() -> None:
    c = fake_host(run={CLOCK: Result("@@runbook:clock@@\ndate\nSat Aug 22 06:12:05 JST 2017\n")})
    result = check_date(c)
    assert result.failed and "no valid time" in result.message


def test_check_date_fails_when_the_probe_fails() -> None:
    c = fake_host(probe="")
    result = check_date(c)
    assert result.failed and "probe failed" in result.message


def test_facts_are_probed_once_per_connection() -> None:
    c = fake_host(offset=5)
    check_date(c)
    second = check_date(c)
    assert len(commands(c)) == 2 and second.commands == []


def test_verify_ok_on_a_synchronised_host() -> None:
    c = fake_host(offset=0.002, probe=probe_output(daemon="running", enabled=True, synced=True))
    result = verify_clock(c)
    assert result.outcome is Outcome.OK, result.message
    assert result.data["synchronised"] is True and result.data["peer"] == "10.200.0.1"
    assert result.data["waited"] == 0.0


def test_verify_reuses_the_probe_when_nothing_changed() -> None:
    c = fake_host(offset=0.002, probe=probe_output(daemon="running", enabled=True, synced=True))
    check_date(c)
    result = verify_clock(c)
    assert result.outcome is Outcome.OK and result.commands == []
    assert len(commands(c)) == 2


def test_verify_reprobes_after_a_change() -> None:
    c = fake_host(offset=0.002, probe=probe_output(daemon="running", enabled=True, synced=True))
    check_date(c)
    forget_facts(c)
    verify_clock(c)
    assert len(commands(c)) == 4


def test_verify_waits_for_the_system_peer() -> None:
    waited = "@@runbook:sync.ntpq@@\n" + NTPQ_SYNCED + "@@runbook:sync.ntpq.rc@@\n0\n@@runbook:waited@@\n9\n"
    c = fake_host(offset=0.002, probe=probe_output(daemon="running"), run={SYNC_WAIT: Result(waited)})
    result = verify_clock(c, sync_wait=30)
    assert result.outcome is Outcome.OK, result.message
    assert result.data["synchronised"] is True and result.data["polls"] == 9
    assert "after" in result.message


def test_verify_fails_when_not_synchronised_in_time() -> None:
    waited = "@@runbook:sync.ntpq@@\n" + NTPQ_INIT + "@@runbook:sync.ntpq.rc@@\n0\n@@runbook:waited@@\n5\n"
    c = fake_host(offset=0.002, probe=probe_output(daemon="running"), run={SYNC_WAIT: Result(waited)})
    result = verify_clock(c, sync_wait=5)
    assert result.failed and "did not synchronise within 5 s" in result.message
    assert commands(c)[-1].endswith(" runbook '' 5")  # waits at most 5 polls


def test_verify_fails_on_offset_and_stopped_daemon() -> None:
    c = fake_host(offset=10800)
    result = verify_clock(c)
    assert result.failed
    assert "over the 0.5 s tolerance" in result.message and "ntpd is not running" in result.message


def test_verify_max_offset_option() -> None:
    c = fake_host(offset=2, probe=probe_output(daemon="running", synced=True))
    assert verify_clock(c, max_offset=5).outcome is Outcome.OK


def test_verify_dry_run_does_not_wait() -> None:
    c = fake_host(offset=10800)
    result = verify_clock(c, dry_run=True)
    assert result.outcome is Outcome.SKIPPED and result.message.startswith("would verify")
    c = fake_host(offset=0.001, probe=probe_output(daemon="running"))
    result = verify_clock(c, dry_run=True)
    assert result.outcome is Outcome.SKIPPED and "would wait" in result.message
    assert len(commands(c)) == 2


@pytest.mark.parametrize(
    ("bound", "said"), [(0.0001, "±0.1 ms"), (0.0042, "±4.2 ms"), (0.25, "±250 ms"), (1.5, "±1.5 s")]
)
def test_one_bound_format_everywhere(bound: float, said: str) -> None:
    """Issue 14: the header said ±0.1 ms where verify said ±0 ms for the same bound."""
    assert clock.format_bound(bound) == said
    assert clock.describe_offset(10800.0, bound).endswith(f"({said})")


def test_verify_says_the_bound_as_check_date_does() -> None:
    host = fake_host(offset=0.001, probe=probe_output(daemon="running", enabled=True, synced=True))
    said = verify_clock(host).message  # the module's reference fixture answers for NTP
    bound = said.split("(", 1)[1].split(")", 1)[0]
    assert bound != "±0 ms" and bound.startswith("±") and bound.endswith(" ms"), said
