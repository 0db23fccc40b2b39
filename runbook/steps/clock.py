"""Clock steps: measure the host's offset (``check_date``) and confirm the fix (``verify``)."""

from __future__ import annotations

import math

from invoke.context import Context

from runbook import clock, ntpconf
from runbook.commands import StepRecorder, step
from runbook.daemons.drivers import FAMILIES, driver_for
from runbook.errors import ClockUnreadable, NTPUnavailable
from runbook.facts import HostFacts, facts_for, section_token
from runbook.results import Outcome, StepResult
from runbook.session import session_of, settings_for
from runbook.settings import Settings
from runbook.shell import section_rc, split_sections
from runbook.stepdata import ClockCheck, ClockVerify

PANIC_THRESHOLD = 1000.0
"""ntpd's panic threshold (s): started without -g, ntpd exits rather than correct more."""


def first_offset(c: Context) -> clock.Measurement | None:
    """The offset ``check_date`` measured on ``c`` before anything was fixed, if it ran."""
    return session_of(c).first_offset


def host_offset(settings: Settings, facts: HostFacts) -> clock.Measurement:
    """The host's offset from the probe's clock sample and the (cached) NTP reference.

    Raises ``ClockUnreadable`` or ``NTPUnavailable``.
    """
    if facts.clock is None:
        raise ClockUnreadable("no valid time in the host's clock samples")
    return clock.measure(facts.clock, clock.reference_time(settings))


@step("check_date", title="check date", data=ClockCheck)
def check_date(
    c: Context,
    rec: StepRecorder,
    ntp_server: str | None = None,
    samples: int | None = None,
    dry_run: bool = False,
) -> StepResult:
    """Measure the host clock's offset from NTP time (+ = host behind) and its error bound.

    Read-only: ``ok`` whenever it could measure (a dry run measures too), ``failed`` when it
    could not; warns when the offset is over ntpd's 1000 s panic threshold.
    """
    settings = settings_for(c, ntp_server=ntp_server, samples=samples)
    rec.dry_run = dry_run or settings.dry_run
    facts = facts_for(c, rec, settings)
    try:
        measured = host_offset(settings, facts)
    except (ClockUnreadable, NTPUnavailable) as exc:
        return rec.finish(Outcome.FAILED, f"cannot measure the host clock: {exc}")
    session = session_of(c)
    if session.first_offset is None:
        session.first_offset = measured
    if abs(measured.offset) > PANIC_THRESHOLD:
        rec.warnings.append(
            f"offset {measured.offset:+,.1f} s is over ntpd's {PANIC_THRESHOLD:g} s panic threshold: "
            "ntpd started without -g exits instead of correcting it"
        )
    sync = {"synchronised": facts.sync.synchronised, "peer": facts.sync.peer}
    return rec.finish(
        Outcome.OK, clock.describe_offset(measured.offset, measured.bound), **measured.data(), **sync
    )


@step("verify", title="verify", data=ClockVerify, needs=("check_date",))
def verify_clock(
    c: Context,
    rec: StepRecorder,
    max_offset: float | None = None,
    sync_wait: float | None = None,
    ntp_server: str | None = None,
    dry_run: bool = False,
) -> StepResult:
    """Confirm the fix: offset within ``max_offset``, ntpd running and synchronised.

    Reads the cached facts when no step changed the host since they were probed (a step that
    changes it forgets them), so a healthy host costs one probe; otherwise it probes afresh.

    ``failed`` when the offset is over tolerance, no daemon runs, or the daemon has no system
    peer (``*`` in ``ntpq -pn``, or ntpstat exit 0) within ``sync_wait`` seconds: an
    unsynchronised daemon does not keep the clock right, so the host is not done. Polls
    once a second on the host, in one command. A dry run reports the state without
    waiting: ``ok`` when already fine, else ``skipped`` (nothing was fixed to verify).
    """
    settings = settings_for(c, max_offset=max_offset, sync_wait=sync_wait, ntp_server=ntp_server)
    dry = rec.dry_run = dry_run or settings.dry_run
    facts = facts_for(c, rec, settings)
    try:
        measured = host_offset(settings, facts)
    except (ClockUnreadable, NTPUnavailable) as exc:
        return rec.finish(Outcome.FAILED, f"cannot measure the host clock: {exc}")
    sync = facts.sync
    data = {
        "offset": measured.offset,
        "bound": measured.bound,
        "synchronised": sync.synchronised,
        "peer": sync.peer,
        "waited": 0.0,
    }
    problems = []
    if abs(measured.offset) > settings.ntp.max_offset:
        problems.append(
            f"offset {measured.offset:+,.3f} s ({clock.format_bound(measured.bound)}) "
            f"is over the {settings.ntp.max_offset:g} s tolerance"
        )
    choice = facts.choice()
    found = facts.service()
    if choice.conflict:
        problems.append(choice.conflict)
    elif found is None:
        problems.append(f"no supported time daemon ({', '.join(FAMILIES)}) is installed")
    elif not found[1].running:
        problems.append(f"{found[0].daemon} is not running")
    if problems:
        if dry:
            return rec.finish(
                Outcome.SKIPPED, "would verify after the changes; now " + "; ".join(problems), **data
            )
        return rec.finish(Outcome.FAILED, "; ".join(problems), **data)
    daemon = found[0].daemon if found else "the daemon"
    bound = clock.format_bound(measured.bound)
    within = f"offset {measured.offset:+.3f} s ({bound}) within {settings.ntp.max_offset:g} s"
    if sync.synchronised:
        return rec.finish(Outcome.OK, f"{within}; {daemon} synchronised to {sync.peer}", **data)
    if dry:
        return rec.finish(
            Outcome.SKIPPED,
            f"{within}; would wait up to {settings.ntp.sync_wait:g} s for {daemon} to synchronise",
            **data,
        )
    family = found[0].daemon if found else "ntpd"
    hopeless = _never_selects(c, rec, family, daemon)
    if hopeless:
        return rec.finish(Outcome.FAILED, f"{within}, but {hopeless}", **data)
    driver = driver_for(family)
    token = section_token(c)
    record = rec.run(
        c,
        driver.wait_command(math.ceil(settings.ntp.sync_wait), token),
        timeout=settings.ntp.sync_wait + settings.fleet.command_timeout,
    )
    sections = split_sections(record.stdout, token)
    sync = driver.sync_state(sections)
    waited = section_rc(sections.get("waited"))
    data.update(synchronised=sync.synchronised, peer=sync.peer, waited=record.duration, polls=waited)
    if sync.synchronised:
        return rec.finish(
            Outcome.OK,
            f"{within}; {daemon} synchronised to {sync.peer} after {record.duration:.0f} s",
            **data,
        )
    why = record.note or driver.unsynchronised
    return rec.finish(
        Outcome.FAILED,
        f"{within}, but {daemon} did not synchronise within {settings.ntp.sync_wait:g} s ({why})",
        **data,
    )


def _never_selects(c: Context, rec: StepRecorder, family: str, daemon: str) -> str | None:
    """For ntpd/ntpsec: why its config can never give it a system peer (so waiting is pointless)."""
    if family not in ntpconf.CONFIG_FILES:
        return None
    record = rec.run(c, ntpconf.read_command(family))
    return ntpconf.never_selects(ntpconf.parse_sources(record.stdout, family), daemon)
