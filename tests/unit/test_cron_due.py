"""Runs due inside a window: zones with and without DST, midnight, dom/dow, the host's clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from runbook.cron import (
    CronEntry,
    EntryKind,
    anacron_due,
    due_runs,
    find_missed,
    host_clock,
    host_reached,
    host_window,
    parse_anacrontab,
    parse_crontab,
    true_time,
)
from runbook.settings import Window, parse_window

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def _entry(schedule: str, tz: str = "Asia/Tokyo") -> CronEntry:
    return CronEntry("/etc/crontab", 1, "root", schedule, "job", EntryKind.CRON, tz)


def _walls(runs: tuple[datetime, ...]) -> list[str]:
    return [run.strftime("%m-%d %H:%M%z") for run in runs]


def test_jst_window_start_inclusive_end_exclusive() -> None:
    start = datetime(2017, 8, 22, 2, 0, tzinfo=TOKYO)
    runs = due_runs(_entry("0 * * * *"), start, start + timedelta(hours=3))
    assert _walls(runs) == ["08-22 02:00+0900", "08-22 03:00+0900", "08-22 04:00+0900"]


def test_window_given_in_utc_is_read_in_the_entry_zone() -> None:
    start = datetime(2017, 8, 21, 17, 0, tzinfo=ZoneInfo("UTC"))
    runs = due_runs(_entry("30 3 * * *"), start, start + timedelta(hours=3))
    assert _walls(runs) == ["08-22 03:30+0900"]
    assert runs[0].tzinfo == TOKYO


def test_window_crossing_midnight() -> None:
    window = parse_window("2017-08-21 23:00..2017-08-22 01:30 Asia/Tokyo")
    runs = due_runs(_entry("*/30 23,0,1 * * *"), window.start, window.end)
    assert _walls(runs) == [
        "08-21 23:00+0900",
        "08-21 23:30+0900",
        "08-22 00:00+0900",
        "08-22 00:30+0900",
        "08-22 01:00+0900",
    ]
    assert _walls(due_runs(_entry("@daily"), window.start, window.end)) == ["08-22 00:00+0900"]


def test_step_ranges_lists_and_names() -> None:
    start = datetime(2017, 8, 21, 0, 0, tzinfo=TOKYO)  # a Monday
    runs = due_runs(_entry("10-40/15 2,4 * aug mon-tue"), start, start + timedelta(days=7))
    assert _walls(runs) == [
        f"08-{day} {hour}:{minute}+0900"
        for day in (21, 22)
        for hour in ("02", "04")
        for minute in (10, 25, 40)
    ]


def test_day_of_month_or_day_of_week_as_vixie_cron() -> None:
    start = datetime(2017, 8, 1, 0, 0, tzinfo=TOKYO)
    end = start + timedelta(days=31)
    either = due_runs(_entry("0 0 13 * fri"), start, end)
    assert [run.day for run in either] == [4, 11, 13, 18, 25]
    starred = due_runs(_entry("0 0 1-7 * */7"), start, end)
    assert [run.day for run in starred] == [6]
    assert [run.day for run in due_runs(_entry("0 0 1-3 * *"), start, end)] == [1, 2, 3]


def test_new_york_spring_forward_runs_skipped_fixed_jobs_late_and_wildcards_not() -> None:
    start = datetime(2024, 3, 10, 1, 0, tzinfo=NEW_YORK)
    end = datetime(2024, 3, 10, 4, 0, tzinfo=NEW_YORK)
    assert _walls(due_runs(_entry("30 2 * * *", "America/New_York"), start, end)) == ["03-10 03:00-0400"]
    assert _walls(due_runs(_entry("30 * * * *", "America/New_York"), start, end)) == [
        "03-10 01:30-0500",
        "03-10 03:30-0400",
    ]


def test_new_york_fall_back_runs_fixed_jobs_once_and_wildcards_twice() -> None:
    start = datetime(2024, 11, 3, 0, 0, tzinfo=NEW_YORK)
    end = datetime(2024, 11, 3, 3, 0, tzinfo=NEW_YORK)  # four real hours: 01:00-02:00 comes twice
    fixed = due_runs(_entry("30 1 * * *", "America/New_York"), start, end)
    assert _walls(fixed) == ["11-03 01:30-0400"]
    hourly = due_runs(_entry("0 * * * *", "America/New_York"), start, end)
    assert _walls(hourly) == ["11-03 00:00-0400", "11-03 01:00-0400", "11-03 01:00-0500", "11-03 02:00-0500"]
    assert len({run.timestamp() for run in hourly}) == 4


def test_fall_back_window_starting_in_the_repeated_hour_does_not_repeat_a_fixed_job() -> None:
    second_0115 = datetime(2024, 11, 3, 6, 15, tzinfo=ZoneInfo("UTC")).astimezone(NEW_YORK)
    assert (second_0115.hour, second_0115.fold) == (1, 1)
    end = second_0115 + timedelta(hours=1)
    assert due_runs(_entry("30 1 * * *", "America/New_York"), second_0115, end) == ()
    wildcard = due_runs(_entry("30 * * * *", "America/New_York"), second_0115, end)
    assert _walls(wildcard) == ["11-03 01:30-0500"]


def test_berlin_spring_forward() -> None:
    window = parse_window("2024-03-31T01:00+01:00..2024-03-31T04:00+02:00")
    assert _walls(due_runs(_entry("15 2 * * *", "Europe/Berlin"), window.start, window.end)) == [
        "03-31 03:00+0200"
    ]


def test_tokyo_has_no_dst() -> None:
    start = datetime(2024, 3, 10, 0, 0, tzinfo=TOKYO)
    runs = due_runs(_entry("0 * * * *"), start, start + timedelta(days=1))
    assert len(runs) == 24
    assert {run.utcoffset() for run in runs} == {timedelta(hours=9)}


def test_cron_tz_entry_reads_the_window_in_its_own_zone() -> None:
    table = parse_crontab(
        "0 3 * * * root host-zone-job\nCRON_TZ=UTC\n0 18 * * * root utc-job\n",
        source="/etc/cron.d/x",
        zone="Asia/Tokyo",
    )
    window = parse_window("2017-08-22 02:00..05:00 Asia/Tokyo")
    report = find_missed(table.entries, window)
    assert [(job.entry.command, _walls(job.runs)) for job in report.due] == [
        ("host-zone-job", ["08-22 03:00+0900"]),
        ("utc-job", ["08-21 18:00+0000"]),
    ]


def test_impossible_or_bad_schedules_have_no_runs() -> None:
    start = datetime(2017, 1, 1, tzinfo=TOKYO)
    assert due_runs(_entry("0 0 30 2 *"), start, start + timedelta(days=400)) == ()
    assert due_runs(_entry("not a schedule"), start, start + timedelta(days=1)) == ()
    assert due_runs(_entry("@daily", tz="Nowhere/Land"), start, start + timedelta(days=1)) == ()


def test_runs_are_capped() -> None:
    start = datetime(2017, 1, 1, tzinfo=TOKYO)
    assert len(due_runs(_entry("* * * * *"), start, start + timedelta(days=30), limit=50)) == 50


def test_reboot_and_anacron_are_listed_apart() -> None:
    cron = parse_crontab(
        "@reboot root /usr/bin/agent\n0 3 * * * root backup\n0 9 * * * root later\n",
        source="/etc/crontab",
        zone="Asia/Tokyo",
    )
    anacron = parse_anacrontab(
        "1 5 cron.daily run-parts /etc/cron.daily\n7 10 cron.weekly run-parts /etc/cron.weekly\n"
        "30 15 cron.monthly run-parts /etc/cron.monthly\n",
        source="/etc/anacrontab",
        zone="Asia/Tokyo",
    )
    window = parse_window("2017-08-22 02:00..05:00 Asia/Tokyo")
    stamps = {"cron.daily": date(2017, 8, 21), "cron.weekly": date(2017, 8, 20)}
    report = find_missed(cron.entries + anacron.entries, window, anacron_stamps=stamps)
    assert [job.entry.command for job in report.due] == ["backup"]
    assert [entry.command for entry in report.reboot] == ["/usr/bin/agent"]
    assert [(job.entry.job_id, job.due) for job in report.anacron] == [
        ("cron.daily", True),
        ("cron.weekly", False),
        ("cron.monthly", True),
    ]
    assert "anacron will run it" in report.anacron[0].reason
    assert "no timestamp" in report.anacron[2].reason


def test_anacron_day_is_the_entry_zone_day() -> None:
    (entry,) = parse_anacrontab("1 5 d cmd\n", source="/etc/anacrontab", zone="Asia/Tokyo").entries
    late_utc = datetime(2017, 8, 21, 16, 0, tzinfo=ZoneInfo("UTC"))  # 01:00 on the 22nd in Tokyo
    assert anacron_due(entry, date(2017, 8, 21), late_utc).due
    assert not anacron_due(entry, date(2017, 8, 22), late_utc).due


@pytest.mark.parametrize("offset", [3 * 3600.0, -120.0, 0.0])
def test_host_clock_conversions_round_trip(offset: float) -> None:
    moment = datetime(2017, 8, 22, 5, 0, tzinfo=TOKYO)
    assert true_time(host_clock(moment, offset), offset) == moment


def test_host_behind_by_three_hours_has_not_reached_the_missed_runs() -> None:
    window = parse_window("2017-08-22 02:00..05:00 Asia/Tokyo")
    now = datetime(2017, 8, 22, 5, 30, tzinfo=TOKYO)
    offset = 3 * 3600.0  # host clock reads 02:30
    assert host_clock(now, offset) == datetime(2017, 8, 22, 2, 30, tzinfo=TOKYO)
    shifted = host_window(window, offset)
    assert (shifted.start.hour, shifted.end.hour) == (23, 2)
    runs = due_runs(_entry("0 2,3,4 * * *"), window.start, window.end)
    assert [host_reached(run, now, offset) for run in runs] == [True, False, False]
    assert [host_reached(run, now, 0.0) for run in runs] == [True, True, True]


def test_window_source_is_kept_by_host_window() -> None:
    window = Window(datetime(2017, 8, 22, tzinfo=TOKYO), datetime(2017, 8, 23, tzinfo=TOKYO), "inferred")
    assert host_window(window, 60).source == "inferred"
