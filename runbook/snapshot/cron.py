"""The cron schedule a snapshot keeps: ``CronJob``s from the cron fragment's output.

The entries are those ``runbook.cron`` parses for the missed cron jobs step (crontabs, cron.d,
user spools, anacrontab, run-parts scripts expanded), read in the host's zone.
"""

from __future__ import annotations

from runbook.cron import CronPaths, host_zone, parse_cron_section, read_schedule
from runbook.snapshot.model import CronJob


def unread(section: str) -> bool:
    """Whether the fragment left the files unread (the probe's ``boot`` scope on a recent-enough boot)."""
    return "unread" in parse_cron_section(section).flags


def scheduled_jobs(
    section: str, zone: str, paths: CronPaths | None = None
) -> tuple[tuple[CronJob, ...], tuple[str, ...]]:
    """Every job the section's crontabs schedule, once each, sorted, and what the fragment could
    not read (``CronSnapshot.notes``: a file cut short, skipped, unreadable); ``zone`` when the
    host's is unknown; ``paths``: where the fragment looked (the defaults')."""
    found = parse_cron_section(section)
    table = read_schedule(found, host_zone(found, paths) or zone, paths)
    jobs = {CronJob(e.schedule, e.user, e.command, e.source) for e in table.entries}
    return tuple(sorted(jobs, key=lambda job: (job.source, job.key))), found.notes
