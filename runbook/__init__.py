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
from runbook.notify.settings import NotifySettings
from runbook.record import Journal, load_journal, render_host, write_records
from runbook.results import CommandRecord, FleetRun, HostRun, Outcome, StepResult
from runbook.session import HostSession, session_of, settings_for
from runbook.settings import (
    BackupSettings,
    FleetSettings,
    NtpSettings,
    RecordSettings,
    Settings,
    SiteSettings,
    SshSettings,
    Window,
    build_settings,
    parse_window,
    with_overrides,
)
from runbook.snapshot.settings import BeforeAfterSettings
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
    "BeforeAfterSettings",
    "ClockUnreadable",
    "CommandRecord",
    "CronError",
    "DurationError",
    "FleetInterrupted",
    "FleetRun",
    "FleetSettings",
    "HostError",
    "HostRun",
    "HostSelectionError",
    "HostSession",
    "HostUnavailable",
    "Journal",
    "NTPUnavailable",
    "NotifySettings",
    "NtpSettings",
    "Outcome",
    "ProbeError",
    "RecordError",
    "RecordSettings",
    "RerunError",
    "RunListener",
    "RunbookError",
    "ScheduleError",
    "Settings",
    "SettingsError",
    "SiteSettings",
    "SshSettings",
    "StateFileError",
    "StepRecorder",
    "StepResult",
    "SudoRefused",
    "UsageError",
    "Window",
    "__version__",
    "build_settings",
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
    "with_overrides",
    "write_records",
]
