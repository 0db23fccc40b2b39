"""Issue 12, item 12: the hwclock path read from the host reaches the shell quoted."""

from __future__ import annotations

import pytest
from invoke.runners import Result
from timesetup_fakes import setup_probe

from runbook import clock
from runbook.results import Outcome
from runbook.steps import sync_rtc
from runbook.steps.clock import check_date
from runbook.testing import commands, fake_host, fixed_reference

HOSTILE = "/opt/rtc tools/hwclock;touch${IFS}/tmp/pwned"


def test_hwclock_path_from_the_host_is_quoted(monkeypatch: pytest.MonkeyPatch) -> None:
    probe = setup_probe("sysv", {"ntpd": ("ntpd", True, True)}, tools=("ntpd",))
    probe = probe.replace("@@runbook:tools@@\n", f"@@runbook:tools@@\nhwclock {HOSTILE}\n")
    quoted = "LC_ALL=C '/opt/rtc tools/hwclock;touch${IFS}/tmp/pwned' --systohc"
    c = fake_host(offset=10800, probe=probe, run={quoted: Result("")})
    monkeypatch.setattr(clock, "reference_time", lambda settings, **_: fixed_reference())
    assert check_date(c).outcome is Outcome.OK
    monkeypatch.setattr(clock, "reference_time", lambda settings, **_: fixed_reference(offset=-10800))
    result = sync_rtc(c)
    assert commands(c)[-1] == quoted
    assert result.outcome is Outcome.CHANGED
