"""Every error runbook raises, in one tree; each is also the builtin it is most like.

::

    RunbookError
    ├── UsageError (ValueError)           the operator's input: flags, files, settings; exit 2
    │   ├── SettingsError                 a setting that cannot be used
    │   │   └── DurationError             a duration such as "5m" that cannot be read
    │   ├── HostSelectionError            --host, hosts files, @groups, --rerun-failed
    │   ├── RecordError                   record templates that do not render
    │   └── StateFileError                `runbook check --state-file` that cannot be read or written
    ├── HostError                         one host could not be worked on; the others go on
    │   ├── HostUnavailable (ConnectionError)  no verified SSH connection
    │   ├── SudoRefused (PermissionError)      sudo did not run a command that needs root
    │   ├── ProbeError (RuntimeError)          the read-only probe failed
    │   └── ClockUnreadable (RuntimeError)     no valid time in the host's clock samples
    ├── CronError (ValueError)            a cron entry on a host that cannot be used
    │   ├── ScheduleError                 a schedule cron would reject
    │   └── RerunError                    a job that cannot be rerun safely
    └── NTPUnavailable (ConnectionError)  no NTP server gave a usable reference

``FleetInterrupted`` (Ctrl-C during a fleet, carrying what was done) is a ``KeyboardInterrupt``,
outside the tree on purpose: ``except Exception`` must not swallow it.
"""

from __future__ import annotations


class RunbookError(Exception):
    """The root of every error runbook raises."""


class UsageError(RunbookError, ValueError):
    """Input from the operator that cannot be used; the message says what to do instead."""


class SettingsError(UsageError):
    """A setting that cannot be used; the message names it and says what to do."""


class DurationError(SettingsError):
    """A duration that cannot be read (``90``, ``5m``, ``1h30m`` are)."""


class HostSelectionError(UsageError):
    """A host selection that names nothing, or names something that cannot be used."""


class RecordError(UsageError):
    """Record templates that cannot be loaded or rendered."""


class StateFileError(UsageError):
    """The check's state file cannot be read or written; the message names it and says what to do."""


class HostError(RunbookError):
    """One host could not be worked on; a fleet records it and goes on with the others."""


class HostUnavailable(HostError, ConnectionError):
    """No verified SSH connection to the host (unreachable, refused key, failed login)."""


class SudoRefused(HostError, PermissionError):
    """sudo on the host did not run a command that needs root; the message says why and what to do."""


class ProbeError(HostError, RuntimeError):
    """The read-only probe failed on the host."""


class ClockUnreadable(HostError, RuntimeError):
    """The probe's clock samples held no valid host time."""


class CronError(RunbookError, ValueError):
    """A cron entry on a host that cannot be used; the message says which and why."""


class ScheduleError(CronError):
    """A schedule cron would reject; the message says which field and why."""


class RerunError(CronError):
    """A cron job that cannot be rerun safely; the message says why."""


class NTPUnavailable(RunbookError, ConnectionError):
    """No NTP server gave a usable reference time."""


__all__ = [
    "ClockUnreadable",
    "CronError",
    "DurationError",
    "HostError",
    "HostSelectionError",
    "HostUnavailable",
    "NTPUnavailable",
    "ProbeError",
    "RecordError",
    "RerunError",
    "RunbookError",
    "ScheduleError",
    "SettingsError",
    "StateFileError",
    "SudoRefused",
    "UsageError",
]
