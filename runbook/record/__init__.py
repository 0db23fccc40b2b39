"""Maintenance records: Markdown (Jinja2 templates) and JSON per host and per fleet, and the journal.

``render_host``/``host_json`` and ``render_fleet``/``fleet_json`` build the records,
``write_records`` writes them atomically (``RecordWriter`` as a run goes),
``check_templates`` fails early on a broken user template, and ``Journal``/``load_journal``
keep a run recoverable after a crash.
"""

from runbook.errors import RecordError
from runbook.record.files import (
    RecordWriter,
    journal_path,
    record_stem,
    safe_name,
    write_atomic,
    write_fleet_records,
    write_host_records,
    write_records,
)
from runbook.record.fleet import fleet_json
from runbook.record.journal import Journal, journal_settings, load_journal
from runbook.record.model import host_json, step_title
from runbook.record.render import check_templates, environment, render_fleet, render_host

__all__ = [
    "Journal",
    "RecordError",
    "RecordWriter",
    "check_templates",
    "environment",
    "fleet_json",
    "host_json",
    "journal_path",
    "journal_settings",
    "load_journal",
    "record_stem",
    "render_fleet",
    "render_host",
    "safe_name",
    "step_title",
    "write_atomic",
    "write_fleet_records",
    "write_host_records",
    "write_records",
]
