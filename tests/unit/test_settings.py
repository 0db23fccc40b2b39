"""Settings: config section, overrides, and the errors bad values get."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from invoke.config import Config
from invoke.context import MockContext

from runbook.durations import format_duration, parse_duration
from runbook.errors import DurationError, SettingsError
from runbook.session import attach, settings_for
from runbook.settings import NtpSettings, Settings, build_settings, parse_window


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("-3h", -10800.0),
        ("+90s", 90.0),
        ("1h30m", 5400.0),
        ("0", 0.0),
        ("500ms", 0.5),
        ("+40y", 40 * 365.25 * 86400),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "3x", "h", "--3h", "1h-2m", "True"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(DurationError, match="not a duration"):
        parse_duration(text)


def test_format_duration_reads_as_words() -> None:
    assert format_duration(-10812.4) == "-3h 0m 12s"
    assert format_duration(0.004) == "+0.004 s"


def test_config_section_then_overrides() -> None:
    c = MockContext(config=Config(overrides={"runbook": {"ntp_servers": ["a", "b"], "max_offset": "2s"}}))
    settings = settings_for(c, max_offset="250ms", urls=None)
    assert settings.ntp.servers == ("a", "b")
    assert settings.ntp.max_offset == 0.25


def test_bound_settings_are_the_base() -> None:
    c = MockContext()
    attach(c, Settings(ntp=NtpSettings(max_offset=3.0, servers=("x",))))
    assert settings_for(c).ntp.max_offset == 3.0
    assert settings_for(c, ntp_server="y").ntp.servers == ("y",)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"max_ofset": 1}, "unknown runbook setting"),
        ({"max_offset": "-1s"}, "more than zero"),
        ({"max_offset": "soon"}, "not a duration"),
        ({"parallel": "many"}, "whole number"),
        ({"urls": ["ftp://x/"]}, "not http"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"backup": {"evidence_file": "/x"}}, "backup needs at least a command"),
        ({"backup": {"command": "b", "max_agee": 1}}, "unknown backup setting"),
        ({"ntp_servers": []}, "give at least one NTP server"),
        ({"dry_run": "perhaps"}, "true or false"),
    ],
)
def test_bad_values_name_the_problem(raw: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        build_settings(raw)


def test_window_with_zone_name_and_short_end() -> None:
    window = parse_window("2017-08-22 02:00..05:00 JST")
    assert window.start.astimezone(UTC) == datetime(2017, 8, 21, 17, 0, tzinfo=UTC)
    assert window.end.astimezone(UTC) == datetime(2017, 8, 21, 20, 0, tzinfo=UTC)


def test_window_with_offsets() -> None:
    window = parse_window("2017-08-22T02:00+09:00..2017-08-22T05:00+09:00")
    assert (window.end - window.start).total_seconds() == 3 * 3600


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2017-08-22 02:00", "is not START..END"),
        ("2017-08-22T02:00..2017-08-22T05:00", "has no time zone"),
        ("2017-08-22T05:00+09:00..2017-08-22T02:00+09:00", "ends before it starts"),
        ("yesterday..today UTC", "is not an ISO 8601 time"),
    ],
)
def test_bad_window(text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_window(text)


@pytest.mark.parametrize(
    ("given", "zone"),
    [
        ("JST", "Asia/Tokyo"),
        ("jst", "Asia/Tokyo"),
        ("UTC", "UTC"),
        ("Asia/Tokyo", "Asia/Tokyo"),
        ("KST", "Asia/Seoul"),
    ],
)
def test_timezone_and_window_take_the_same_zone_names(given: str, zone: str) -> None:
    assert build_settings({"timezone": given}).records.timezone == zone
    window = parse_window(f"2017-08-22 02:00..05:00 {given}")
    assert str(window.start.tzinfo) == zone


@pytest.mark.parametrize("given", ["XYZ", "Mars/Olympus", "CST"])
def test_timezone_and_window_refuse_the_same_zone_names(given: str) -> None:
    with pytest.raises(SettingsError) as by_flag:
        build_settings({"timezone": given})
    with pytest.raises(SettingsError) as by_window:
        parse_window(f"2017-08-22 02:00..05:00 {given}")
    assert str(by_flag.value) == str(by_window.value)
    assert str(by_flag.value).startswith(f"unknown time zone {given!r}: use an IANA name")


def test_record_language_and_details_are_checked() -> None:
    assert build_settings({"lang": "JA", "details": "full"}).records.lang == "ja"
    with pytest.raises(SettingsError, match="lang 'fr' is not one of en, ja"):
        build_settings({"lang": "fr"})
    with pytest.raises(SettingsError, match="details 'all' is not one of brief, full"):
        build_settings({"details": "all"})


def test_a_window_without_start_and_end_is_not_read_as_a_zone() -> None:
    with pytest.raises(SettingsError, match=r"is not START\.\.END"):
        parse_window("yesterday night")
