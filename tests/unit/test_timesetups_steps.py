"""Each time setup's branches on MockContext: ntpd -gq, ntpsec, chrony, timesyncd, choice, backward, RTC."""

from __future__ import annotations

import re

import pytest
from invoke.runners import Result
from timesetup_fakes import TRACKING_SYNCED, setup_probe

from runbook import clock
from runbook.results import Outcome
from runbook.steps import one_shot_sync, restart_daemon, start_enable_daemon, sync_rtc, verify_clock
from runbook.steps.clock import check_date
from runbook.testing import commands, fake_host, fixed_reference

FORTY_YEARS = 40 * 365.25 * 86400
CHRONY_UP = {"chronyd": ("chronyd", True, True)}
CHRONY_DOWN = {"chronyd": ("chronyd", False, False)}
NTPSEC = {"ntpsec": ("ntpsec", False, True)}
TIMESYNCD = {"systemd-timesyncd": ("systemd-timesyncd", True, True)}
NTPD_SYSV = {"ntpd": ("ntpd", True, True)}


@pytest.fixture(autouse=True)
def reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "reference_time", lambda settings, **_: fixed_reference())


# -- classic ntpd without ntpdate: ntpd -gq ---------------------------------------------


def test_ntpd_gq_no_servers_found_with_exit_0_is_a_failure() -> None:
    probe = setup_probe("sysv", {"ntpd": ("ntpd", False, True)}, tools=("ntpd", "ntpq"))
    c = fake_host(
        offset=10800, probe=probe, run={"LC_ALL=C /usr/sbin/ntpd -gq": Result("ntpd: no servers found\n")}
    )
    result = one_shot_sync(c)
    assert result.failed and "no servers found" in result.message and "exits 0 even so" in result.message
    assert result.data["tool"] == "ntpd -gq"


def test_ntpd_gq_stops_the_daemon_that_holds_the_port_and_starts_it_again() -> None:
    probe = setup_probe("sysv", NTPD_SYSV, tools=("ntpd", "ntpq"))
    bind = Result(
        "unable to bind to wildcard address 0.0.0.0 - another process may be running - EXITING\n", exited=1
    )
    c = fake_host(
        offset=10800,
        probe=probe,
        run={
            "LC_ALL=C /usr/sbin/ntpd -gq": [bind, Result("ntpd: time set +10800.012345s\n")],
            "LC_ALL=C /sbin/service ntpd stop": Result("Shutting down ntpd: [  OK  ]\n"),
            "LC_ALL=C /sbin/service ntpd start": Result("Starting ntpd: [  OK  ]\n"),
        },
    )
    result = one_shot_sync(c)
    assert result.outcome is Outcome.CHANGED and result.data["fallback"] is True
    assert result.data["stepped"] == pytest.approx(10800.012345)
    assert commands(c)[-3:] == [
        "LC_ALL=C /sbin/service ntpd stop",
        "LC_ALL=C /usr/sbin/ntpd -gq",
        "LC_ALL=C /sbin/service ntpd start",
    ]
    assert any("panic threshold" in w for w in result.warnings)


# -- ntpsec ------------------------------------------------------------------------------


def test_ntpsec_wrapper_steps_without_a_fallback() -> None:
    probe = setup_probe("systemd", NTPSEC, tools=("ntpdate", "ntpd", "ntpq"), flavour="ntpsec")
    out = "2024-05-01 09:12:09.1 (+0000) +10800.000186 +/- 0.000402 ntp.test 10.205.0.1 s2 no-leap\n"
    c = fake_host(
        offset=10800,
        probe=probe,
        run={
            "LC_ALL=C /usr/sbin/ntpdate ntp.test": Result(out, stderr="CLOCK: time stepped by 10799.999974\n")
        },
    )
    result = one_shot_sync(c)
    assert result.outcome is Outcome.CHANGED and result.data["fallback"] is False
    assert result.data["tool"] == "ntpdate (ntpsec wrapper)" and result.data["method"] == "step"
    assert not any("stop" in cmd for cmd in commands(c))


def test_ntpsec_no_eligible_servers_fails() -> None:
    probe = setup_probe("systemd", NTPSEC, tools=("ntpdate", "ntpd", "ntpq"), flavour="ntpsec")
    c = fake_host(
        offset=10800,
        probe=probe,
        run={"LC_ALL=C /usr/sbin/ntpdate ntp.test": Result(stderr="ntpdig: no eligible servers\n", exited=1)},
    )
    result = one_shot_sync(c)
    assert result.failed and "no eligible servers" in result.message


def test_ntpsec_restart_uses_systemctl() -> None:
    probe = setup_probe("systemd", NTPSEC, tools=("ntpdate", "ntpd", "ntpq"), flavour="ntpsec")
    c = fake_host(offset=10800, probe=probe, run={"LC_ALL=C systemctl restart ntpsec": Result("")})
    result = restart_daemon(c)
    assert result.outcome is Outcome.CHANGED and result.data["start"] == "ok"
    assert result.data["daemon"] == "ntpsec" and result.data["init"] == "systemd"


# -- chrony ------------------------------------------------------------------------------


def _chrony_running(makestep: Result) -> dict[object, object]:
    return {
        "LC_ALL=C chronyc burst 4/4": Result("200 OK\n"),
        re.compile(r"^LC_ALL=C chronyc waitsync \d+ 0 0 1$"): Result(
            "try: 1, refid: 0ACD0001, correction: 0.0\n"
        ),
        "LC_ALL=C chronyc makestep": makestep,
        re.compile(r"^LC_ALL=C sh -c .*chronyc waitsync", re.DOTALL): Result(
            "@@runbook:sync.chronyc@@\n" + TRACKING_SYNCED + "@@runbook:sync.chronyc.rc@@\n0\n"
        ),
    }


def test_chrony_running_burst_makestep_waitsync() -> None:
    c = fake_host(
        offset=10800, probe=setup_probe("systemd", CHRONY_UP), run=_chrony_running(Result("200 OK\n"))
    )
    result = one_shot_sync(c)
    assert result.outcome is Outcome.CHANGED, result.message
    sent = commands(c)
    assert sent.index("LC_ALL=C chronyc burst 4/4") < sent.index("LC_ALL=C chronyc makestep")
    assert sent[-1].startswith("LC_ALL=C sh -c") and "chronyc waitsync" in sent[-1]
    # the tool that set the clock and chronyd's reference, not "chronyd" as the server
    assert (result.data["tool"], result.data["server"]) == ("chronyc makestep", "10.205.0.1")
    assert result.message == "set the clock with chronyc makestep (10.205.0.1)"


@pytest.mark.parametrize(
    ("reply", "why"),
    [("506 Cannot talk to daemon", "chronyd is not running"), ("501 Not authorised", "not authorised")],
)
def test_chrony_makestep_errors_fail(reply: str, why: str) -> None:
    c = fake_host(
        offset=10800,
        probe=setup_probe("systemd", CHRONY_UP),
        run=_chrony_running(Result(reply + "\n", exited=1)),
    )
    result = one_shot_sync(c)
    assert result.failed and reply in result.message and why in result.message
    assert result.message.startswith("chronyd: chronyc makestep"), "the daemon is no server"


def test_chronyd_q_when_the_daemon_is_down() -> None:
    said = "2024-05-01T09:12:13Z System clock wrong by 10800.000123 seconds (step)\n"
    c = fake_host(
        offset=10800,
        probe=setup_probe("openrc", CHRONY_DOWN),
        run={"LC_ALL=C /usr/sbin/chronyd -q 'server ntp.test iburst'": Result(said)},
    )
    result = one_shot_sync(c)
    assert result.outcome is Outcome.CHANGED and result.data["stepped"] == pytest.approx(10800.000123)


def test_chronyd_q_finding_another_chronyd_fails() -> None:
    busy = Result("Fatal error : Another chronyd may already be running (pid=812)\n", exited=1)
    c = fake_host(
        offset=10800,
        probe=setup_probe("openrc", CHRONY_DOWN),
        run={"LC_ALL=C /usr/sbin/chronyd -q 'server ntp.test iburst'": busy},
    )
    result = one_shot_sync(c)
    assert result.failed and "a stray chronyd runs" in result.message


def test_chrony_makestep_1_3_is_warned_about() -> None:
    c = fake_host(probe=setup_probe("systemd", CHRONY_UP, tracking="synced"))
    result = restart_daemon(c)
    assert result.outcome is Outcome.OK
    assert any("makestep 1 3" in w and "makestep 1 -1" in w for w in result.warnings)
    c = fake_host(probe=setup_probe("systemd", CHRONY_UP, tracking="synced", makestep="makestep 1 -1"))
    assert not restart_daemon(c).warnings


def test_openrc_start_and_enable() -> None:
    c = fake_host(
        probe=setup_probe("openrc", CHRONY_DOWN),
        run={
            "LC_ALL=C rc-service chronyd start": Result(""),
            "LC_ALL=C rc-update add chronyd default": Result(""),
        },
    )
    result = start_enable_daemon(c)
    assert result.outcome is Outcome.CHANGED and "chronyd (OpenRC service chronyd)" in result.message


def test_verify_waits_for_chrony() -> None:
    tracking = "@@runbook:sync.chronyc@@\nReference ID    : 0ACD0001 (10.205.0.1)\nLeap status     : Normal\n"
    c = fake_host(
        probe=setup_probe("systemd", CHRONY_UP),
        run={
            re.compile(r"^LC_ALL=C sh -c .*chronyc waitsync", re.DOTALL): Result(
                tracking + "@@runbook:sync.chronyc.rc@@\n0\n@@runbook:waited@@\n2\n"
            )
        },
    )
    result = verify_clock(c)
    assert result.outcome is Outcome.OK and result.data["peer"] == "10.205.0.1"
    assert "chronyc waitsync" in commands(c)[-1]


# -- systemd-timesyncd -------------------------------------------------------------------


def _timesyncd(answer: str) -> dict[object, object]:
    return {
        "LC_ALL=C timedatectl set-ntp true": Result(""),
        "LC_ALL=C systemctl restart systemd-timesyncd": Result(""),
        re.compile(r"^LC_ALL=C sh -c .*timedatectl show -p NTPSynchronized", re.DOTALL): Result(
            f"@@runbook:sync.timedatectl@@\nNTPSynchronized={answer}\n@@runbook:waited@@\n3\n"
        ),
    }


def test_timesyncd_set_ntp_restart_and_wait() -> None:
    c = fake_host(offset=10800, probe=setup_probe("systemd", TIMESYNCD), run=_timesyncd("yes"))
    result = one_shot_sync(c)
    assert result.outcome is Outcome.CHANGED, result.message
    assert commands(c)[2:4] == [
        "LC_ALL=C timedatectl set-ntp true",
        "LC_ALL=C systemctl restart systemd-timesyncd",
    ]
    assert (result.data["tool"], result.data["server"]) == ("systemd-timesyncd", None)
    assert result.message == "set the clock with systemd-timesyncd"


def test_timesyncd_never_synchronised_fails() -> None:
    c = fake_host(offset=10800, probe=setup_probe("systemd", TIMESYNCD), run=_timesyncd("no"))
    result = one_shot_sync(c)
    assert result.failed and "NTPSynchronized not yes" in result.message
    assert result.message.startswith("systemd-timesyncd: NTPSynchronized"), result.message


# -- which daemon ------------------------------------------------------------------------


def test_both_installed_one_enabled_drives_the_enabled_one_and_says_so() -> None:
    probe = setup_probe("systemd", {"chronyd": ("chronyd", False, False), "ntpd": ("ntpd", False, True)})
    c = fake_host(offset=10800, probe=probe, run={"LC_ALL=C systemctl restart ntpd": Result("")})
    result = restart_daemon(c)
    assert result.outcome is Outcome.CHANGED and result.data["daemon"] == "ntpd"
    assert "chronyd and ntpd installed: driving ntpd, the one enabled at boot" in result.warnings
    assert "LC_ALL=C systemctl restart chronyd" not in commands(c)


def test_two_enabled_daemons_fail_naming_the_conflict() -> None:
    probe = setup_probe("systemd", {"chronyd": ("chronyd", True, True), "ntpd": ("ntpd", False, True)})
    c = fake_host(offset=10800, probe=probe)
    for step in (restart_daemon, start_enable_daemon):
        result = step(c)
        assert result.failed and "chronyd and ntpd are all enabled at boot" in result.message


# -- large offsets -----------------------------------------------------------------------


def test_backward_step_is_refused_without_the_flag() -> None:
    c = fake_host(offset=-FORTY_YEARS, probe=setup_probe("systemd", CHRONY_DOWN))
    for step in (restart_daemon, one_shot_sync, start_enable_daemon):
        result = step(c)
        assert result.failed and "AHEAD" in result.message and "--allow-backward-step" in result.message
    assert len(commands(c)) == 2  # the clock batch and the probe: nothing changed


def test_backward_step_dry_run_says_it_would_be_refused() -> None:
    c = fake_host(offset=-FORTY_YEARS, probe=setup_probe("systemd", CHRONY_DOWN))
    result = one_shot_sync(c, dry_run=True)
    assert result.failed and "refused" in result.message


def test_backward_step_is_done_with_the_flag() -> None:
    said = f"System clock wrong by {-FORTY_YEARS:.6f} seconds (step)\n"
    c = fake_host(
        offset=-FORTY_YEARS,
        probe=setup_probe("systemd", CHRONY_DOWN),
        settings={"allow_backward_step": True},
        run={"LC_ALL=C /usr/sbin/chronyd -q 'server ntp.test iburst'": Result(said)},
    )
    result = one_shot_sync(c)
    assert result.outcome is Outcome.CHANGED and "backwards" in result.message


def test_small_backward_step_is_within_the_limit() -> None:
    c = fake_host(
        offset=-30,
        probe=setup_probe("openrc", CHRONY_DOWN),
        run={
            "LC_ALL=C /usr/sbin/chronyd -q 'server ntp.test iburst'": Result(
                "System clock wrong by -30.0 seconds (step)\n"
            )
        },
    )
    assert one_shot_sync(c).outcome is Outcome.CHANGED


# -- RTC ---------------------------------------------------------------------------------


def _stepped_host(tools: tuple[str, ...], hwclock: Result | None = None) -> object:
    run = {"LC_ALL=C /usr/sbin/hwclock --systohc": hwclock} if hwclock is not None else {}
    c = fake_host(offset=10800, probe=setup_probe("sysv", NTPD_SYSV, tools=tools), run=run)
    assert check_date(c).outcome is Outcome.OK
    return c


def test_rtc_nothing_to_do_when_the_clock_was_right() -> None:
    c = fake_host(offset=0.01, probe=setup_probe("sysv", NTPD_SYSV))
    check_date(c)
    result = sync_rtc(c)
    assert result.outcome is Outcome.OK and "--systohc" not in " ".join(commands(c))


def test_rtc_without_hwclock_is_skipped() -> None:
    c = _stepped_host(("ntpdate", "ntpd"))
    result = sync_rtc(c)  # type: ignore[arg-type]
    assert result.outcome is Outcome.SKIPPED and "no hwclock" in result.message


def test_rtc_without_an_rtc_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    c = _stepped_host(
        ("ntpd", "hwclock"),
        Result(stderr="hwclock: Cannot access the Hardware Clock via any known method.\n", exited=1),
    )
    monkeypatch.setattr(clock, "reference_time", lambda settings, **_: fixed_reference(offset=-10800))
    result = sync_rtc(c)  # type: ignore[arg-type]
    assert result.outcome is Outcome.SKIPPED and "no RTC" in result.message


def test_rtc_written_after_a_step(monkeypatch: pytest.MonkeyPatch) -> None:
    c = _stepped_host(("ntpd", "hwclock"), Result(""))
    monkeypatch.setattr(clock, "reference_time", lambda settings, **_: fixed_reference(offset=-10800))
    result = sync_rtc(c)  # type: ignore[arg-type]
    assert result.outcome is Outcome.CHANGED and commands(c)[-1] == "LC_ALL=C /usr/sbin/hwclock --systohc"  # type: ignore[arg-type]
