"""The runbook's steps: each a Fabric task ``step(c, **options) -> StepResult``."""

from __future__ import annotations

from runbook.steps.backup import rerun_backup
from runbook.steps.clock import check_date, verify_clock
from runbook.steps.compare import compare, snapshot
from runbook.steps.missed_jobs import missed_jobs
from runbook.steps.rtc import sync_rtc
from runbook.steps.site import check_site
from runbook.steps.timesync import one_shot_sync, restart_daemon, start_enable_daemon

__all__ = [
    "check_date",
    "check_site",
    "compare",
    "missed_jobs",
    "one_shot_sync",
    "rerun_backup",
    "restart_daemon",
    "snapshot",
    "start_enable_daemon",
    "sync_rtc",
    "verify_clock",
]
