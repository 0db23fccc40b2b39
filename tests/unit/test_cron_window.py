"""Window inference: a paused host's clock lag, a reboot's shutdown record, a bare boot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from runbook.cron import Downtime, infer_window, parse_btime, parse_last, parse_uptime_since

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2017, 8, 22, 5, 30, tzinfo=TOKYO)

LAST = """\
reboot   system boot  4.9.0-3-amd64    Tue Aug 22 05:00:12 2017   still running
shutdown system down  4.9.0-3-amd64    Tue Aug 22 02:00:03 2017 - Tue Aug 22 05:00:12 2017  (03:00)
reboot   system boot  4.9.0-3-amd64    Mon Aug 21 09:00:00 2017 - Tue Aug 22 02:00:03 2017  (17:00)
shutdown system down  4.9.0-3-amd64    Mon Aug  7 23:59:59 2017 - down                      (00:00)
reboot   system boot  4.9.0-3-amd64    Sun Aug  6 10:00:00 2017 - crash                     (00:00)

wtmp begins Sun Aug  6 10:00:00 2017
"""


def test_parse_btime_and_uptime() -> None:
    assert parse_btime("cpu 1 2\nbtime 1503345612\n") == datetime.fromtimestamp(1503345612, UTC)
    assert parse_btime("1503345612\n") == datetime.fromtimestamp(1503345612, UTC)
    assert parse_btime("btime soon\n") is None
    assert parse_btime("btime 99999999999999999999\n") is None
    assert parse_uptime_since("2017-08-22 05:00:12\n", "Asia/Tokyo") == datetime(
        2017, 8, 22, 5, 0, 12, tzinfo=TOKYO
    )
    assert parse_uptime_since("uptime: invalid option -- 's'", "Asia/Tokyo") is None


def test_parse_last_reads_shutdown_records_in_the_host_zone() -> None:
    records = parse_last(LAST, "Asia/Tokyo")
    assert records == (
        Downtime(datetime(2017, 8, 22, 2, 0, 3, tzinfo=TOKYO), datetime(2017, 8, 22, 5, 0, 12, tzinfo=TOKYO)),
        Downtime(datetime(2017, 8, 7, 23, 59, 59, tzinfo=TOKYO), None),
    )
    assert parse_last("garbage\n\x00\n", "Nowhere/Land") == ()


def test_reboot_window_runs_from_shutdown_to_boot() -> None:
    boot = datetime(2017, 8, 22, 5, 0, 12, tzinfo=TOKYO)
    window = infer_window(now=NOW, boot=boot, shutdowns=parse_last(LAST, "Asia/Tokyo"))
    assert window is not None
    assert window.start == datetime(2017, 8, 22, 2, 0, 3, tzinfo=TOKYO)
    assert window.end == boot + timedelta(minutes=5)
    assert (
        window.source
        == "inferred from the shutdown at 2017-08-21 17:00 UTC and the boot at 2017-08-21 20:00 UTC"
    )


def test_reboot_with_a_clock_that_came_back_behind() -> None:
    offset = 3 * 3600.0
    boot_by_host = datetime(2017, 8, 22, 2, 0, 12, tzinfo=TOKYO)  # true 05:00:12
    shutdowns = (Downtime(datetime(2017, 8, 22, 2, 0, 3, tzinfo=TOKYO), boot_by_host),)
    window = infer_window(now=NOW, boot=boot_by_host, shutdowns=shutdowns, offset=offset)
    assert window is not None
    assert (window.start.hour, window.end.astimezone(TOKYO).hour) == (2, 5)
    assert "shutdown" in window.source


def test_paused_host_window_comes_from_the_clock_lag() -> None:
    boot = datetime(2017, 8, 1, 9, 0, tzinfo=TOKYO)
    window = infer_window(now=NOW, boot=boot - timedelta(hours=3), offset=3 * 3600.0)
    assert window is not None
    assert window.end == NOW
    assert window.start == NOW - timedelta(hours=3, minutes=5)
    assert window.source == "inferred from the 3 h clock lag"


def test_lag_without_boot_time_and_a_clock_ahead() -> None:
    window = infer_window(now=NOW, offset=-5400.0)
    assert window is not None
    assert window.source == "inferred from the 1 h 30 min clock lead"


def test_small_lag_is_not_a_pause() -> None:
    assert infer_window(now=NOW, offset=12.0) is None
    assert infer_window(now=NOW) is None


def test_recent_boot_without_shutdown_record_assumes_the_start() -> None:
    boot = datetime(2017, 8, 22, 5, 0, tzinfo=TOKYO)
    window = infer_window(now=NOW, boot=boot, shutdowns=())
    assert window is not None
    assert window.start == boot - timedelta(hours=6)
    assert "no shutdown record; start assumed 6 h earlier" in window.source


def test_shutdown_record_of_an_older_boot_is_not_used() -> None:
    boot = datetime(2017, 8, 22, 5, 0, tzinfo=TOKYO)
    old = (Downtime(datetime(2017, 8, 21, 1, 0, tzinfo=TOKYO), datetime(2017, 8, 21, 1, 5, tzinfo=TOKYO)),)
    window = infer_window(now=NOW, boot=boot, shutdowns=old)
    assert window is not None
    assert "no shutdown record" in window.source


def test_old_boot_without_lag_gives_no_window() -> None:
    boot = datetime(2017, 6, 1, tzinfo=TOKYO)
    assert infer_window(now=NOW, boot=boot, shutdowns=parse_last(LAST, "Asia/Tokyo")) is None


def test_reboot_after_the_lag_began_prefers_the_shutdown_record() -> None:
    boot_by_host = datetime(2017, 8, 22, 4, 0, tzinfo=TOKYO)  # true 05:00 with a 1 h lag
    shutdowns = (Downtime(datetime(2017, 8, 22, 2, 0, tzinfo=TOKYO), boot_by_host),)
    window = infer_window(now=NOW, boot=boot_by_host, shutdowns=shutdowns, offset=3600.0)
    assert window is not None
    assert "shutdown" in window.source


def test_lag_decides_when_the_boot_is_later_and_unexplained() -> None:
    boot = NOW - timedelta(minutes=30)
    window = infer_window(now=NOW, boot=boot, shutdowns=(), offset=3 * 3600.0, boot_offset=0.0)
    assert window is not None
    assert window.start == NOW - timedelta(hours=3, minutes=5)
    assert window.source == "inferred from the 3 h clock lag"
