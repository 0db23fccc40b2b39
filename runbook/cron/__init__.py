"""Cron on a host: reading its schedule, what fell in a window, the window, reruns.

``entries`` parses crontabs and anacrontab, ``fields`` checks schedules, ``due`` finds
runs inside a window (and how the host's wrong clock saw them), ``window`` infers the
window, ``fragment`` is the probe fragment and its parser, ``rerun`` selects and builds
rerun commands. Every public name is re-exported here.
"""

from __future__ import annotations

from runbook.cron.due import (
    MAX_RUNS,
    AnacronJob,
    DueJob,
    MissedReport,
    anacron_due,
    due_runs,
    find_missed,
    host_clock,
    host_reached,
    host_window,
    true_time,
)
from runbook.cron.entries import (
    CronEntry,
    CronTable,
    EntryKind,
    Problem,
    expand_run_parts,
    parse_anacrontab,
    parse_crontab,
    run_parts_dir,
    runs_as_part,
    split_percent,
)
from runbook.cron.fields import SPECIALS, Schedule, parse_schedule
from runbook.cron.fragment import (
    SECTION,
    CronPaths,
    CronSnapshot,
    anacron_stamps,
    cron_arguments,
    cron_command,
    cron_script,
    host_zone,
    parse_cron_section,
    read_schedule,
)
from runbook.cron.rerun import TIMED_OUT, job_environment, matches, rerun_command, select
from runbook.cron.window import Downtime, infer_window, parse_btime, parse_last, parse_uptime_since
from runbook.errors import RerunError, ScheduleError

__all__ = [
    "MAX_RUNS",
    "SECTION",
    "SPECIALS",
    "TIMED_OUT",
    "AnacronJob",
    "CronEntry",
    "CronPaths",
    "CronSnapshot",
    "CronTable",
    "Downtime",
    "DueJob",
    "EntryKind",
    "MissedReport",
    "Problem",
    "RerunError",
    "Schedule",
    "ScheduleError",
    "anacron_due",
    "anacron_stamps",
    "cron_arguments",
    "cron_command",
    "cron_script",
    "due_runs",
    "expand_run_parts",
    "find_missed",
    "host_clock",
    "host_reached",
    "host_window",
    "host_zone",
    "infer_window",
    "job_environment",
    "matches",
    "parse_anacrontab",
    "parse_btime",
    "parse_cron_section",
    "parse_crontab",
    "parse_last",
    "parse_schedule",
    "parse_uptime_since",
    "read_schedule",
    "rerun_command",
    "run_parts_dir",
    "runs_as_part",
    "select",
    "split_percent",
    "true_time",
]
