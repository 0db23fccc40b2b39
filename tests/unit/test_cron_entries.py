"""Crontab, anacrontab and schedule-field parsing: the edge cases cron itself has."""

from __future__ import annotations

import pytest

from runbook.cron import (
    EntryKind,
    expand_run_parts,
    parse_anacrontab,
    parse_crontab,
    parse_schedule,
    run_parts_dir,
    runs_as_part,
    split_percent,
)
from runbook.errors import ScheduleError


def _system(text: str, zone: str = "Asia/Tokyo"):  # type: ignore[no-untyped-def]
    return parse_crontab(text, source="/etc/crontab", zone=zone)


@pytest.mark.parametrize(
    ("text", "expression"),
    [
        ("*/15 * * * *", "0,15,30,45 * * * *"),
        ("5-20/5 1,3 * * *", "5,10,15,20 1,3 * * *"),
        ("0 0 * jan,Dec *", "0 0 * 1,12 *"),
        ("0 9 * * mon-fri", "0 9 * * 1,2,3,4,5"),
        ("0 0 * * 7", "0 0 * * 0"),
        ("0 0 * * 5-7", "0 0 * * 0,5,6"),
        ("0 */6 * * *", "0 0,6,12,18 * * *"),
        ("30 2/8 * * *", "30 2,10,18 * * *"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
    ],
)
def test_fields_are_normalised(text: str, expression: str) -> None:
    assert parse_schedule(text).expression == expression


@pytest.mark.parametrize(
    ("text", "day_or", "fixed"),
    [
        ("0 0 1 * mon", True, True),
        ("0 0 1-7 * */7", False, True),
        ("0 0 * * mon", False, True),
        ("*/5 1 * * *", False, False),
        ("0 * 1 * *", False, False),
    ],
)
def test_vixie_flags(text: str, day_or: bool, fixed: bool) -> None:
    schedule = parse_schedule(text)
    assert (schedule.day_or, schedule.fixed) == (day_or, fixed)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("60 * * * *", "minute: 60 is outside 0-59"),
        ("* 24 * * *", "hour: 24 is outside"),
        ("* * 0 * *", "day of month: 0 is outside"),
        ("* * * 13 *", "month: 13"),
        ("* * * * 8", "day of week: 8"),
        ("* * * * *", ""),
        ("*/0 * * * *", "step '0'"),
        ("5-1 * * * *", "runs backwards"),
        ("* * * foo *", "'foo' is not a number or a name"),
        ("* * * * * *", "5 fields"),
        ("@often", "5 fields"),
        ("1,,2 * * * *", "'' is not a number"),
        ("٣ * * * *", "not a number"),
    ],
)
def test_bad_fields_say_why(text: str, reason: str) -> None:
    if not reason:
        parse_schedule(text)
        return
    with pytest.raises(ScheduleError, match=reason):
        parse_schedule(text)


def test_system_crontab_entries_with_environment_and_cron_tz() -> None:
    table = _system(
        "# comment\n"
        "SHELL=/bin/bash\n"
        'MAILTO = "ops@example.com"\n'
        "\n"
        "0 3 * * * root /usr/local/bin/backup\n"
        "CRON_TZ=America/New_York\n"
        "TZ=Europe/Berlin\n"
        "  @daily   www-data   php /srv/cron.php   # not a comment\n"
        "@reboot root /usr/bin/start\n"
    )
    backup, daily, boot = table.entries
    assert (backup.line, backup.user, backup.schedule, backup.command) == (
        5,
        "root",
        "0 3 * * *",
        "/usr/local/bin/backup",
    )
    assert backup.tz == "Asia/Tokyo"
    assert backup.environment == {"SHELL": "/bin/bash", "MAILTO": "ops@example.com"}
    assert daily.tz == "America/New_York"
    assert daily.user == "www-data"
    assert daily.command == "php /srv/cron.php   # not a comment"
    assert daily.environment["TZ"] == "Europe/Berlin"
    assert daily.kind is EntryKind.CRON
    assert boot.kind is EntryKind.REBOOT
    assert backup.id == "/etc/crontab:5"
    assert table.problems == ()


def test_user_crontab_has_no_user_field() -> None:
    table = parse_crontab(
        "*/5 * * * * /home/alice/poll --fast\n", source="/var/spool/cron/alice", zone="UTC", user="alice"
    )
    (entry,) = table.entries
    assert (entry.user, entry.command) == ("alice", "/home/alice/poll --fast")


def test_malformed_lines_are_reported_with_line_numbers() -> None:
    table = _system(
        "0 3 * * * root ok\n"
        "61 * * * * root bad\n"
        "0 3 * * *\n"
        "0 3 * * * root\n"
        "@fortnightly root x\n"
        "CRON_TZ=Mars/Olympus\n"
        "0 4 * * * root still read\n"
    )
    assert [e.command for e in table.entries] == ["ok", "still read"]
    assert table.entries[1].tz == "Asia/Tokyo"
    assert [(p.line, p.reason.split(":")[0]) for p in table.problems] == [
        (2, "minute"),
        (3, "expected schedule, user and command"),
        (4, "expected schedule, user and command"),
        (5, "a schedule has 5 fields, '@fortnightly' has 1"),
        (6, "CRON_TZ 'Mars/Olympus' is not a known zone; using Asia/Tokyo"),
    ]
    assert str(table.problems[0]).startswith("/etc/crontab:2: minute")


@pytest.mark.parametrize(
    ("command", "shell", "stdin"),
    [
        ("echo hi", "echo hi", None),
        ("mail -s x root%line one%line two", "mail -s x root", "line one\nline two\n"),
        ("date +\\%F", "date +%F", None),
        ("cat%100\\% sure%", "cat", "100% sure\n"),
        ("printf 'a\\b'", "printf 'a\\b'", None),
        ("x%", "x", "\n"),
        ("trailing\\", "trailing\\", None),
    ],
)
def test_percent_becomes_stdin(command: str, shell: str, stdin: str | None) -> None:
    assert split_percent(command) == (shell, stdin)


def test_percent_is_recorded_on_the_entry() -> None:
    (entry,) = _system('0 1 * * * root /usr/bin/mail -s "$(date +\\%F)" root%backup done\n').entries
    assert entry.command == '/usr/bin/mail -s "$(date +%F)" root'
    assert entry.stdin == "backup done\n"


def test_run_parts_lines_expand_to_listed_scripts() -> None:
    table = _system(
        "25 6 * * * root test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )\n"
        "47 6 * * 7 root run-parts /etc/cron.weekly/\n"
        "52 6 1 * * root run-parts /etc/cron.monthly\n"
    )
    assert run_parts_dir(table.entries[0].command) == "/etc/cron.daily"
    assert run_parts_dir(table.entries[1].command) == "/etc/cron.weekly"
    expanded = expand_run_parts(
        table.entries, {"/etc/cron.daily": ("logrotate", "my backup"), "/etc/cron.weekly": ()}
    )
    assert [e.command for e in expanded] == [
        "/etc/cron.daily/logrotate",
        "'/etc/cron.daily/my backup'",
        "run-parts /etc/cron.monthly",
    ]
    assert expanded[0].via.endswith("run-parts --report /etc/cron.daily )")
    assert expanded[0].id == "/etc/crontab:1:/etc/cron.daily/logrotate"
    assert expanded[0].schedule == "25 6 * * *"


@pytest.mark.parametrize(
    ("name", "debian", "runs"),
    [
        ("logrotate", True, True),
        ("foo.sh", True, False),
        ("foo.dpkg-old", True, False),
        ("foo.sh", False, True),
        ("foo.rpmsave", False, False),
        ("foo~", False, False),
        (".hidden", False, False),
    ],
)
def test_run_parts_name_rules(name: str, debian: bool, runs: bool) -> None:
    assert runs_as_part(name, debian=debian) is runs


def test_anacrontab() -> None:
    table = parse_anacrontab(
        "SHELL=/bin/sh\n"
        "START_HOURS_RANGE=3-22\n"
        "1\t5\tcron.daily\tnice run-parts /etc/cron.daily\n"
        "@weekly 10 weekly.job /usr/local/bin/weekly %with input\n"
        "x 5 bad.period cmd\n"
        "1 y bad.delay cmd\n"
        "1 5 bad/id cmd\n"
        "1 5 -x cmd\n"
        "1 5 short\n",
        source="/etc/anacrontab",
        zone="UTC",
    )
    daily, weekly = table.entries
    assert (daily.kind, daily.job_id, daily.period_days, daily.delay_minutes) == (
        EntryKind.ANACRON,
        "cron.daily",
        1,
        5,
    )
    assert daily.user == "root"
    assert daily.environment == {"SHELL": "/bin/sh", "START_HOURS_RANGE": "3-22"}
    assert daily.id == "anacron:cron.daily"
    assert (weekly.period_days, weekly.command, weekly.stdin) == (7, "/usr/local/bin/weekly ", "with input\n")
    assert [p.line for p in table.problems] == [5, 6, 7, 8, 9]
