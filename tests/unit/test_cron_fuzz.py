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
TAGS = [
    "T file /a 3",
    "T file /b 0",
    "B file 2f63 2",
    "T file /d",
    "T big /a 9",
    "T gone /a",
    "T dir /",
    "S 3",
    "S 3 0 2",
    "S -",
    " 41 42 43",
    " 0a",
    "| text",
    "|",
    "T out last",
    "B out zz",
    "T flag debian",
    "",
]
WIRE = st.lists(st.one_of(st.sampled_from(TAGS), st.text(max_size=12)), max_size=14).map("\n".join)
"""Lines shaped like the fragment's output, in any order."""
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
@given(st.one_of(TEXT, WIRE))
def test_section_and_host_parsers_never_raise(text: str) -> None:
    snapshot = parse_cron_section(text)
    read_schedule(snapshot, host_zone(snapshot) or "UTC")
    parse_last(text, "Asia/Tokyo")
    parse_btime(text)
    parse_uptime_since(text, "Asia/Tokyo")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=6), st.data())
def test_a_file_changed_while_read_never_gets_other_bytes(before: list[bytes], data: st.DataObject) -> None:
    """Sizes read before ``od``, the bytes it read, sizes read again after: a placed file holds what
    ``od`` read for it; when no size changed, every file is placed."""
    read, after = [], []
    for body in before:
        changed = data.draw(st.booleans())
        now = data.draw(st.binary(max_size=40)) if changed else body
        read.append(now)
        after.append(data.draw(st.sampled_from([str(len(now)), "-"])) if changed else str(len(body)))
    names = [f"/etc/cron.d/f{i}" for i in range(len(before))]
    stream = b"".join(read)
    out = "".join(f"T file {name} {len(body)}\n" for name, body in zip(names, before, strict=True))
    out += "".join(
        " " + " ".join(f"{b:02x}" for b in stream[i : i + 16]) + "\n" for i in range(0, len(stream), 16)
    )
    snapshot = parse_cron_section(out + "S " + " ".join(after) + "\n")
    for name, now in zip(names, read, strict=True):
        assert snapshot.files.get(name, now.decode("utf-8", "replace")) == now.decode("utf-8", "replace")
    if after == [str(len(body)) for body in before]:
        assert len(snapshot.files) == len(names)
    assert len(snapshot.files) + len(snapshot.notes) == len(names)


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
