"""``runbook check``: the probe as a Monitoring Plugins check (Nagios, Icinga, Naemon, Mackerel).

Read-only: one SSH connection and the probe per host. Modules: ``ranges`` (threshold ranges),
``states`` (OK/WARNING/CRITICAL/UNKNOWN), ``verdict`` (facts -> findings), ``output`` (plugin
lines and perfdata, JSON), ``statefile`` (the maintenance detector), ``runner`` (checking hosts
over SSH) and ``command`` (the Invoke task).
"""

from __future__ import annotations

from runbook.check.output import render, render_json
from runbook.check.ranges import Range, RangeError, Thresholds, parse_range
from runbook.check.runner import check_host, check_hosts
from runbook.check.states import State, worst
from runbook.check.verdict import CheckOptions, Finding, HostCheck, judge

__all__ = [
    "CheckOptions",
    "Finding",
    "HostCheck",
    "Range",
    "RangeError",
    "State",
    "Thresholds",
    "check_host",
    "check_hosts",
    "judge",
    "parse_range",
    "render",
    "render_json",
    "worst",
]
