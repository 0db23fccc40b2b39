"""Jobs the host's own cron runs after the clock is stepped forward: Debian cron's time-change handling.

Debian's cron (ISC cron 4.1's ``wakeupKind``) notices when the clock jumps: forward by up to 3 h, it
runs the fixed-time jobs of every minute the jump skipped (all jobs for a jump of up to 5 min); past
3 h it runs only the current minute's. On a paused VM the guest clock also runs late, so a job whose
minute fell in the pause either runs late when the guest clock reaches it, or, when the clock is
stepped over it first, right after the step. Either way the host's cron runs it once: rerunning it
too runs it twice (seen on a Debian 12 VM after a real 75 s pause). Seen only with Debian's cron;
other crons are left to the rerun as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

CATCH_UP_LIMIT = 3 * 3600.0
"""The largest forward step (s) after which Debian's cron still runs the skipped minutes' jobs."""
RUNNING_FLAG = "cron-running"
"""The cron fragment's flag for a running ``cron`` daemon (``pidof cron``)."""
NOTE = (
    "not rerun: the host's cron runs it itself (Debian's cron runs the jobs of the minutes a forward "
    "clock step of up to 3 h skipped)"
)


def caught_up_by_cron(flags: Iterable[str], runs: Iterable[datetime], host_time: float, step: float) -> bool:
    """Whether the host's running Debian cron runs these ``runs`` itself: each is at or after
    ``host_time`` (the host's clock when the lag was measured) and the forward ``step`` (s) is at
    most ``CATCH_UP_LIMIT``."""
    found = set(flags)
    due = list(runs)
    return (
        "debian" in found
        and RUNNING_FLAG in found
        and 0 < step <= CATCH_UP_LIMIT
        and bool(due)
        and all(run.timestamp() >= host_time for run in due)
    )
