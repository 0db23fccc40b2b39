"""RTC step: after a step changed the clock, write the system time to the hardware clock."""

from __future__ import annotations

import shlex

from invoke.context import Context

from runbook.commands import StepRecorder, step
from runbook.errors import ClockUnreadable, NTPUnavailable
from runbook.facts import facts_for
from runbook.results import Outcome, StepResult
from runbook.session import settings_for
from runbook.stepdata import RtcWrite
from runbook.steps.clock import first_offset, host_offset
from runbook.steps.timesync import clock_changed

NO_RTC = "Cannot access the Hardware Clock"


@step("sync_rtc", title="sync hardware clock", data=RtcWrite)
def sync_rtc(c: Context, rec: StepRecorder, force: bool = False, dry_run: bool = False) -> StepResult:
    """``hwclock --systohc`` once the clock was fixed, so the next boot starts from the right time.

    ``ok`` (nothing to do) when no step on this connection changed the clock and
    ``check_date`` found it within ``max_offset`` (``force`` writes anyway); ``skipped`` when
    the host has no hwclock or no RTC (``Cannot access the Hardware Clock via any known
    method.``) or when the clock is still off (a wrong RTC is better than a wronger one).
    """
    settings = settings_for(c)
    dry = rec.dry_run = dry_run or settings.dry_run
    first = first_offset(c)
    was_off = first is not None and abs(first.offset) > settings.ntp.max_offset
    if not (force or clock_changed(c) or was_off):
        return rec.finish(Outcome.OK, "no step changed the clock: the RTC is left as it is")
    facts = facts_for(c, rec, settings)
    hwclock = facts.tools.get("hwclock")
    if hwclock is None:
        return rec.finish(Outcome.SKIPPED, "no hwclock on the host: the RTC is not written", rtc=False)
    if dry:
        return rec.finish(Outcome.CHANGED, f"would write the system time to the RTC ({hwclock} --systohc)")
    try:
        measured = host_offset(settings, facts)
    except (ClockUnreadable, NTPUnavailable) as exc:
        return rec.finish(Outcome.SKIPPED, f"clock not measured ({exc}): the RTC is not written")
    if abs(measured.offset) > settings.ntp.max_offset:
        return rec.finish(
            Outcome.SKIPPED,
            f"the clock is still {measured.offset:+,.3f} s off: the RTC is not written",
            offset=measured.offset,
        )
    command = f"{shlex.quote(hwclock)} --systohc"
    record = rec.run(
        c, command, timeout=settings.fleet.command_timeout, sudo_password=settings.ssh.sudo_password
    )
    said = f"{record.stdout}\n{record.stderr}"
    if NO_RTC in said:
        return rec.finish(Outcome.SKIPPED, "the host has no RTC (hwclock: no hardware clock)", rtc=False)
    if not record.ok:
        lines = [line.strip() for line in said.splitlines() if line.strip()]
        detail = lines[-1] if lines else record.note or f"exit {record.exit_code}"
        return rec.finish(Outcome.FAILED, f"hwclock --systohc failed: {detail}", rtc=True)
    return rec.finish(Outcome.CHANGED, "wrote the system time to the RTC (hwclock --systohc)", rtc=True)
