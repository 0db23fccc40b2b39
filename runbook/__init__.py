"""runbook: the checks and repairs a server needs after its hosting provider's maintenance.

Steps are Fabric tasks ``step(c, **options) -> StepResult``; ``run_host``/``run_fleet`` run
them in order with a failure policy; ``runbook.record`` writes the maintenance records.
The lab hosts (``invoke lab.*`` in the repository) are not part of the package.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from runbook.commands import StepRecorder, step
from runbook.connect import connect
from runbook.engine import FleetInterrupted, RunListener, default_steps, run_fleet, run_host
from runbook.errors import (
    ClockUnreadable,
    CronError,
    DurationError,
    HostError,
    HostSelectionError,
    HostUnavailable,
    NTPUnavailable,
    ProbeError,
    RecordError,
    RerunError,
    RunbookError,
    ScheduleError,
    SettingsError,
    StateFileError,
    SudoRefused,
    UsageError,
)
from runbook.record import Journal, load_journal, render_host, write_records
from runbook.results import CommandRecord, FleetRun, HostRun, Outcome, StepResult
from runbook.session import HostSession, session_of, settings_for
from runbook.settings import BackupSettings, Settings, Window, parse_window
from runbook.steps import (
    check_date,
    check_site,
    missed_jobs,
    one_shot_sync,
    rerun_backup,
    restart_daemon,
    start_enable_daemon,
    sync_rtc,
    verify_clock,
)

try:
    __version__ = version("runbook")
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0.0.0+source"

__all__ = [
    "BackupSettings",
    "ClockUnreadable",
    "CommandRecord",
    "CronError",
    "DurationError",
    "FleetInterrupted",
    "FleetRun",
    "HostError",
    "HostRun",
    "HostSelectionError",
    "HostSession",
    "HostUnavailable",
    "Journal",
    "NTPUnavailable",
    "Outcome",
    "ProbeError",
    "RecordError",
    "RerunError",
    "RunListener",
    "RunbookError",
    "ScheduleError",
    "Settings",
    "SettingsError",
    "StateFileError",
    "StepRecorder",
    "StepResult",
    "SudoRefused",
    "UsageError",
    "Window",
    "__version__",
    "check_date",
    "check_site",
    "connect",
    "default_steps",
    "load_journal",
    "missed_jobs",
    "one_shot_sync",
    "parse_window",
    "render_host",
    "rerun_backup",
    "restart_daemon",
    "run_fleet",
    "run_host",
    "session_of",
    "settings_for",
    "start_enable_daemon",
    "step",
    "sync_rtc",
    "verify_clock",
    "write_records",
]
