"""A pytest plugin (``-p controller_date``): run the tests as if the controller's date were another one.

``--controller-date '2027-03-14T01:59:30 America/New_York'`` moves this test process's clock
there (``time_machine.travel``, ticking) and sets ``TZ`` to the zone, so everything that asks
"now" in the code under test (``time.time``, ``datetime.now``, ``time.localtime``) sees that
date. Only this process is moved: the machine's real clock is never touched, and subprocesses
keep the real date. ``FIXED_DATES`` are the dates CI runs the unit suite under (scripts/test):
dates that broke code written on an ordinary day.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

FIXED_DATES = (
    "2027-01-05T08:30:00 UTC",  # a single-digit day (ntpdate and syslog pad it with a space)
    "2027-01-31T23:59:30 UTC",  # the last minute of a month
    "2027-12-31T23:59:30 UTC",  # the last minute of a year
    "2028-02-29T12:00:00 UTC",  # 29 February
    "2027-03-14T01:59:30 America/New_York",  # 30 s before clocks spring forward (02:00 does not exist)
    "2027-11-07T01:59:30 America/New_York",  # the first 01:59 of the night clocks fall back (it comes twice)
)


def parse_controller_date(text: str) -> tuple[datetime, str]:
    """``ISO-TIME ZONE`` as an aware datetime and the zone name (the first of an ambiguous pair)."""
    moment, _, zone = text.strip().partition(" ")
    try:
        naive = datetime.fromisoformat(moment)
        tz = ZoneInfo(zone or "UTC")
    except (ValueError, KeyError) as exc:
        example = "2027-01-05T08:30:00 UTC"
        raise pytest.UsageError(f"--controller-date {text!r}: {exc}; give e.g. {example!r}") from None
    return naive.replace(tzinfo=tz), zone or "UTC"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--controller-date",
        default=None,
        help="run as if the controller's date were this ('ISO-TIME ZONE'); see tests/controller_date.py",
    )


_traveller: list[time_machine.travel] = []


def pytest_configure(config: pytest.Config) -> None:
    given = config.getoption("--controller-date")
    if not given:
        return
    moment, zone = parse_controller_date(given)
    os.environ["TZ"] = zone
    time.tzset()
    traveller = time_machine.travel(moment, tick=True)
    traveller.start()
    _traveller.append(traveller)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _traveller:
        _traveller.pop().stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    given = config.getoption("--controller-date")
    return f"controller date: {given} (this process only)" if given else None


if __name__ == "__main__":  # scripts/test reads the dates from here
    print("\n".join(FIXED_DATES))
