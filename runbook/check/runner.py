"""Checking hosts: one verified SSH connection each, the probe only, nothing changed on the host.

``check_host`` opens the connection, runs the read-only probe (the clock samples travel in its
own session), measures the offset against the NTP reference and judges the facts. Whatever
stops it becomes an UNKNOWN verdict naming why: the host unreachable or its key refused, no
NTP reference, a probe that failed. ``check_hosts`` checks several in parallel, keeping their
order, and with a state file adds the maintenance detector's findings.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from runbook import clock
from runbook.check.statefile import MAINTENANCE, Seen, locked, update
from runbook.check.states import State
from runbook.check.verdict import CheckOptions, Finding, HostCheck, judge, unknown
from runbook.commands import StepRecorder
from runbook.connect import connection_for, open_verified
from runbook.errors import HostUnavailable, NTPUnavailable, ProbeError
from runbook.facts import facts_for
from runbook.session import attach
from runbook.settings import Settings


def check_host(host: str, settings: Settings, options: CheckOptions) -> HostCheck:
    """The verdict on ``host`` (never raises for the host's problems: UNKNOWN says which)."""
    started = time.monotonic()
    result = _checked(host, settings, options)
    result.duration = time.monotonic() - started
    return result


def _checked(host: str, settings: Settings, options: CheckOptions) -> HostCheck:
    try:
        c = connection_for(host, settings)
    except HostUnavailable as exc:
        return unknown(host, str(exc))
    attach(c, settings)
    try:
        open_verified(c, settings)
        # the reference before the probe: its clock samples are not held open (against the probe's
        # host-side limit) while the NTP servers are waited for
        reference = clock.reference_time(settings)
        facts = facts_for(c, StepRecorder("check"), settings)
        if facts.clock is None:
            return unknown(host, "the host's clock could not be read (no valid time in its samples)")
        measured = clock.measure(facts.clock, reference)
        return judge(host, facts, measured, options, settings, reference.now())
    except HostUnavailable as exc:
        return unknown(host, str(exc))
    except NTPUnavailable as exc:
        return unknown(host, f"no NTP reference: {exc}")
    except ProbeError as exc:
        return unknown(host, f"{host}: {exc}")
    except (OSError, EOFError) as exc:
        return unknown(host, f"{host}: connection lost during the probe: {exc or type(exc).__name__}")
    except Exception as exc:  # the guidelines' catch-all: anything unforeseen is UNKNOWN, never a crash
        return unknown(host, f"{host}: {type(exc).__name__}: {exc}")
    finally:
        c.close()


def check_hosts(
    hosts: Sequence[str],
    settings: Settings,
    options: CheckOptions,
    *,
    per_host: Mapping[str, Settings] | None = None,
    state_file: Path | None = None,
    jump: float = 2.0,
    hold: float = 3600.0,
) -> list[HostCheck]:
    """Every host's verdict, in the order given, ``settings.fleet.parallel`` at a time.

    A host named in ``per_host`` is checked with its own settings (the config's ``for:`` entries).
    """
    own = per_host or {}
    with ThreadPoolExecutor(max_workers=max(1, min(settings.fleet.parallel, len(hosts)))) as pool:
        checks = list(pool.map(lambda name: check_host(name, own.get(name, settings), options), hosts))
    if state_file is not None:
        remember(checks, state_file, jump=jump, hold=hold)
    return checks


def remember(checks: Sequence[HostCheck], path: Path, *, jump: float, hold: float) -> None:
    """Compare each measured host with its entry in ``path``, add the detector's finding, write it back.

    Hosts that could not be measured keep their old entry.
    """
    with locked(path) as entries:
        for check in checks:
            if check.offset is None or check.checked_at is None:
                continue
            now = Seen(check.checked_at, check.offset, check.boot_id, check.boot_time)
            seen = update(entries.get(check.host), now, jump, hold)
            entries[check.host] = seen
            if seen.detected:
                check.findings.append(Finding(State.WARNING, f"{MAINTENANCE} ({seen.detected})"))
