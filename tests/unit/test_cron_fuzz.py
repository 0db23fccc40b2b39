"""No exception escapes the cron parsers, whatever text they are given."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from runbook.cron import (
    CronSnapshot,
    find_missed,
    host_zone,
    infer_window,
    parse_anacrontab,
    parse_btime,
    parse_cron_section,
    parse_crontab,
    parse_last,
    parse_uptime_since,
    read_schedule,
    split_percent,
)
from runbook.settings import Window

CRONISH = st.text(
    alphabet=st.sampled_from(list("0123456789*/-,@ \t\n%\\=#abcdefjmnorstuwyACDEFIMNORTUZ_'\"\x00\x0c\r"))
)
TEXT = st.one_of(st.text(), CRONISH)
WINDOW = Window(datetime(2017, 8, 21, tzinfo=UTC), datetime(2017, 8, 22, tzinfo=UTC))


@settings(max_examples=300, deadline=None)
@given(TEXT, st.sampled_from(["UTC", "Asia/Tokyo", "America/New_York", "Nowhere/Land", ""]))
def test_crontab_parsers_never_raise(text: str, zone: str) -> None:
    table = parse_crontab(text, source="/etc/crontab", zone=zone) + parse_crontab(
        text, source="/var/spool/cron/x", zone=zone, user="x"
    )
    table += parse_anacrontab(text, source="/etc/anacrontab", zone=zone)
    find_missed(table.entries, WINDOW)
    split_percent(text)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_section_and_host_parsers_never_raise(text: str) -> None:
    snapshot = parse_cron_section(text)
    read_schedule(snapshot, host_zone(snapshot) or "UTC")
    parse_last(text, "Asia/Tokyo")
    parse_btime(text)
    parse_uptime_since(text, "Asia/Tokyo")


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1), st.text()), st.sets(st.text()))
def test_read_schedule_never_raises_on_any_snapshot(files: dict[str, str], flags: set[str]) -> None:
    snapshot = CronSnapshot(files={f"/etc/cron.d/{k}": v for k, v in files.items()}, flags=frozenset(flags))
    read_schedule(snapshot, "Europe/Berlin")


@given(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e8, max_value=1e8),
    st.integers(min_value=0, max_value=2_000_000_000),
)
def test_infer_window_never_raises(offset: float, boot: int) -> None:
    now = datetime(2017, 8, 22, tzinfo=UTC)
    window = infer_window(now=now, boot=datetime.fromtimestamp(boot, UTC), offset=offset)
    assert window is None or window.start < window.end
