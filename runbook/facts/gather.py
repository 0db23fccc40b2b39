"""Gathering a host's facts: the one probe per connection, its clock samples, the cache.

``facts_for(c, rec, settings)`` runs the probe once per connection (the clock samples in the
same session when ``c`` is a Fabric connection), records it on the calling step, and caches
the ``HostFacts`` on the connection; ``forget_facts(c)`` drops them after a change.
"""

from __future__ import annotations

from invoke.context import Context

from runbook import clock
from runbook.commands import StepRecorder
from runbook.cron.window import MIN_LAG
from runbook.errors import NTPUnavailable, ProbeError
from runbook.facts.types import HostFacts
from runbook.facts.units import parse_facts
from runbook.probe import PROBE_SHELL, clock_command, probe_command
from runbook.session import session_of
from runbook.settings import Settings
from runbook.shell import new_token, split_sections


def cached_facts(c: Context) -> HostFacts | None:
    """The facts already probed on ``c``, if any."""
    return session_of(c).facts


def forget_facts(c: Context) -> None:
    """Drop ``c``'s cached facts: the next ``facts_for`` probes again."""
    session_of(c).facts = None


def section_token(c: Context) -> str:
    """A token for section headers on ``c``: the session's ``probe_token``, a fresh random one
    unless a test pinned it."""
    pinned = session_of(c).probe_token
    return pinned if pinned is not None else new_token()


def facts_for(c: Context, rec: StepRecorder, settings: Settings) -> HostFacts:
    """``c``'s facts, probing once per connection; the probe is recorded on ``rec``.

    A Fabric connection gets one command: clock samples in the probe's own session. Other
    contexts (``invoke.Context``, ``MockContext``) get a ``date`` batch, then the probe.
    Raises ``ProbeError`` when the probe fails. Section headers carry ``section_token(c)``.
    """
    cached = cached_facts(c)
    if cached is not None:
        return cached
    token = section_token(c)
    least = session_of(c).cron_scope
    if clock.has_transport(c):
        command = probe_command(settings, clock_loop=True, token=token)
        record, method, timings = clock.sample_session(
            c,
            command,
            settings.ntp.samples,
            settings.fleet.command_timeout,
            lambda method, timings: at_least(least, cron_scope(settings, clock.best_sample(method, timings))),
            shell=PROBE_SHELL,
        )
        rec.commands.append(record)
        sample = clock.best_sample(method, timings)
    else:
        batch = rec.run(c, clock_command(settings.ntp.samples), timeout=settings.fleet.command_timeout)
        sample = clock.batch_sample(batch)
        scope = at_least(least, cron_scope(settings, sample))
        command = probe_command(settings, clock_loop=False, token=token, cron=scope)
        record = rec.run(c, command, timeout=settings.fleet.command_timeout)
    if record.exit_code != 0 or "@@runbook:" not in record.stdout:
        detail = (record.stderr or record.note or record.stdout).strip()[-300:]
        raise ProbeError(f"the probe failed (exit {record.exit_code}): {detail or 'no output'}")
    facts = parse_facts(split_sections(record.stdout, token), settings.backup, sample)
    session_of(c).facts = facts
    return facts


def at_least(least: str | None, scope: str) -> str:
    """The wider of two cron scopes (``boot`` < ``jobs`` < ``all``); ``least`` may be unset."""
    order = ("boot", "jobs", "all")
    return scope if least is None or order.index(scope) >= order.index(least) else least


def cron_scope(settings: Settings, sample: clock.ClockSample | None) -> str:
    """How much of the cron setup the probe reads (``probe.CRON_SCOPES``), given the host's clock.

    ``boot`` when no window is given and the clock is measured within ``MIN_LAG`` of the
    reference: only a recent boot could then make a window, and the probe reads the files
    if it finds one. ``all`` otherwise, and whenever the offset cannot be measured.
    """
    if settings.window is not None or sample is None:
        return "all"
    try:
        offset = clock.measure(sample, clock.reference_time(settings)).offset
    except NTPUnavailable:
        return "all"
    return "boot" if abs(offset) < MIN_LAG else "all"
