"""Which missed jobs Debian's running cron runs itself after a forward clock step (runbook.cron.catchup)."""

from __future__ import annotations

from datetime import UTC, datetime

from runbook.cron.catchup import CATCH_UP_LIMIT, caught_up_by_cron

HOST_TIME = datetime(2026, 12, 5, 18, 31, 21, tzinfo=UTC).timestamp()
SKIPPED = [datetime(2026, 12, 5, 18, 32, tzinfo=UTC)]
RUNNING = {"debian", "cron-running"}


def test_a_minute_the_step_skipped_is_left_to_a_running_debian_cron() -> None:
    assert caught_up_by_cron(RUNNING, SKIPPED, HOST_TIME, 75.0)
    assert caught_up_by_cron(RUNNING, SKIPPED, HOST_TIME, CATCH_UP_LIMIT)


def test_otherwise_the_runbook_reruns_it() -> None:
    assert not caught_up_by_cron(RUNNING, SKIPPED, HOST_TIME, CATCH_UP_LIMIT + 60)  # cron skips past 3 h
    assert not caught_up_by_cron({"debian"}, SKIPPED, HOST_TIME, 75.0)  # no cron daemon running
    assert not caught_up_by_cron({"cron-running"}, SKIPPED, HOST_TIME, 75.0)  # not Debian's cron
    assert not caught_up_by_cron(RUNNING, SKIPPED, HOST_TIME, -75.0)  # a backward step reruns nothing
    before = [datetime(2026, 12, 5, 18, 30, tzinfo=UTC)]  # the host's clock had passed it already
    assert not caught_up_by_cron(RUNNING, before, HOST_TIME, 75.0)
    assert not caught_up_by_cron(RUNNING, [], HOST_TIME, 75.0)
