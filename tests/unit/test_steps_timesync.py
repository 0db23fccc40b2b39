"""restart_daemon, one_shot_sync, start_enable_daemon on MockContext hosts."""

from __future__ import annotations

from dataclasses import replace

import pytest
from invoke.runners import Result

from runbook import clock
from runbook.errors import NTPUnavailable
from runbook.results import Outcome
from runbook.session import attach, settings_for
from runbook.steps import check_date, one_shot_sync, restart_daemon, start_enable_daemon
from runbook.testing import RESTART_SEED, commands, fake_host, fixed_reference, probe_output

NTPDATE = "LC_ALL=C /usr/sbin/ntpdate ntp.test"
STOP = "LC_ALL=C /sbin/service ntpd stop"
START = "LC_ALL=C /sbin/service ntpd start"
RESTART = "LC_ALL=C /sbin/service ntpd restart"
ENABLE = (
    'LC_ALL=C sh -c \'if command -v chkconfig >/dev/null 2>&1; then chkconfig "$0" on; '
    'else update-rc.d "$0" enable; fi\' ntpd'
)
IN_USE = Result(stdout="22 Aug 06:12:05 ntpdate[3663]: the NTP socket is in use, exiting\n", exited=1)
STEPPED = Result(
    stdout="22 Aug 09:12:09 ntpdate[3631]: step time server 10.200.0.1 offset 10812.398214 sec\n", exited=0
)
NO_SERVER = Result(
    stdout="22 Aug 09:12:09 ntpdate[3631]: no server suitable for synchronization found\n", exited=1
)
STARTED = Result(stdout="Starting ntpd:                                             [  OK  ]\n")
START_FAILED = Result(
    stdout="Starting ntpd:                                             [FAILED]\n", exited=1
)
STOPPED = Result(stdout="Shutting down ntpd:                                        [  OK  ]\n")


@pytest.fixture(autouse=True)
def reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "reference_time", lambda settings, **_: fixed_reference())


# -- restart_daemon ---------------------------------------------------------------------


def test_restart_records_stop_failed_start_ok_as_the_seed_saw() -> None:
    c = fake_host(offset=10800, run={RESTART: Result(RESTART_SEED)})
    result = restart_daemon(c)
    assert result.outcome is Outcome.CHANGED
    assert result.data["stop"] == "failed" and result.data["start"] == "ok"
    assert result.data["daemon"] == "ntpd" and result.data["init"] == "sysv"
    assert "stop FAILED" in result.message and "start OK" in result.message
    assert any("panic threshold" in w for w in result.warnings)
    assert RESTART in commands(c)


def test_restart_leaves_a_healthy_host_alone() -> None:
    c = fake_host(offset=0.001, probe=probe_output(daemon="running", enabled=True, synced=True))
    result = restart_daemon(c)
    assert result.outcome is Outcome.OK
    assert RESTART not in commands(c)
    assert "10.200.0.1" in result.message


def test_a_running_daemon_still_synchronising_is_left_alone() -> None:
    c = fake_host(probe=probe_output(daemon="running", synced=False), run={RESTART: Result(RESTART_SEED)})
    result = restart_daemon(c)
    assert result.outcome is Outcome.OK
    assert "not synchronised yet (verify waits for it)" in result.message
    assert RESTART not in commands(c)


def test_restart_fails_when_start_fails() -> None:
    c = fake_host(offset=10800, run={RESTART: Result("Starting ntpd: [FAILED]\n", exited=1)})
    result = restart_daemon(c)
    assert result.outcome is Outcome.FAILED
    assert result.data["start"] == "failed"


def test_restart_dry_run_changes_nothing() -> None:
    c = fake_host(offset=10800)
    result = restart_daemon(c, dry_run=True)
    assert result.outcome is Outcome.CHANGED and result.dry_run
    assert result.message.startswith("would restart ntpd (not running")
    assert RESTART not in commands(c)


def test_restart_without_ntpd_fails_clearly() -> None:
    c = fake_host(probe=probe_output(daemon="absent"))
    result = restart_daemon(c)
    assert result.failed and "no supported time daemon" in result.message


# -- one_shot_sync ----------------------------------------------------------------------


def test_socket_in_use_fallback_stops_syncs_and_starts() -> None:
    c = fake_host(
        offset=10800,
        probe=probe_output(daemon="running"),
        run={NTPDATE: [IN_USE, STEPPED], STOP: STOPPED, START: STARTED},
    )
    result = one_shot_sync(c)
    assert result.outcome is Outcome.CHANGED, result.message
    assert commands(c)[-4:] == [NTPDATE, STOP, NTPDATE, START]
    assert result.data["fallback"] is True
    assert result.data["stepped"] == pytest.approx(10812.398214)
    assert result.data["method"] == "step" and result.data["server"] == "ntp.test"
    assert "stopped it" in result.message and "started it again" in result.message


def test_ntpd_is_started_again_even_when_the_sync_fails() -> None:
    c = fake_host(
        offset=10800,
        probe=probe_output(daemon="running"),
        run={NTPDATE: [IN_USE, NO_SERVER], STOP: STOPPED, START: STARTED},
    )
    result = one_shot_sync(c)
    assert result.failed
    assert commands(c)[-1] == START
    assert "no server suitable for synchronization found" in result.message
    assert result.data["stepped"] is None and result.data["fallback"] is True


def test_ntpd_is_started_again_even_when_ntpdate_raises() -> None:
    c = fake_host(
        offset=10800,
        probe=probe_output(daemon="running"),
        run={NTPDATE: IN_USE, STOP: STOPPED, START: STARTED},
    )
    calls = {"n": 0}
    original = c.run

    def run(command: str, **kwargs: object) -> Result:
        if command == NTPDATE:
            calls["n"] += 1
            if calls["n"] == 2:
                raise ConnectionResetError("link dropped")
        return original(command, **kwargs)

    object.__setattr__(c, "run", run)
    result = one_shot_sync(c)
    assert result.failed and "link dropped" in result.message
    assert [r.command for r in result.commands][-1] == START


def test_start_failing_after_a_good_sync_is_a_failure() -> None:
    c = fake_host(
        offset=10800,
        probe=probe_output(daemon="running"),
        run={NTPDATE: [IN_USE, STEPPED], STOP: STOPPED, START: START_FAILED},
    )
    result = one_shot_sync(c)
    assert result.failed and "did NOT start again" in result.message
    assert result.data["stepped"] == pytest.approx(10812.398214)


def test_no_server_suitable_tries_every_server() -> None:
    c = fake_host(
        offset=10800,
        settings={"ntp_servers": ["a.test", "b.test"]},
        run={"LC_ALL=C /usr/sbin/ntpdate a.test": NO_SERVER, "LC_ALL=C /usr/sbin/ntpdate b.test": NO_SERVER},
    )
    result = one_shot_sync(c)
    assert result.failed
    assert "no server suitable" in result.message and "tried a.test, b.test" in result.message


def test_second_server_used_when_the_first_has_none_suitable() -> None:
    c = fake_host(
        offset=10800,
        settings={"ntp_servers": ["a.test", "b.test"]},
        run={"LC_ALL=C /usr/sbin/ntpdate a.test": NO_SERVER, "LC_ALL=C /usr/sbin/ntpdate b.test": STEPPED},
    )
    result = one_shot_sync(c)
    assert result.changed and result.data["server"] == "b.test" and result.data["fallback"] is False


def test_no_one_shot_tool_fails_clearly_and_runs_nothing() -> None:
    c = fake_host(offset=10800, probe=probe_output(tools=("ntpq",)))
    result = one_shot_sync(c)
    assert result.failed and "none of ntpdate, ntpdig or ntpd is installed" in result.message
    assert "install" in result.message
    assert len(commands(c)) == 2  # the clock batch and the probe only


def test_small_offset_runs_nothing() -> None:
    c = fake_host(offset=0.01)
    result = one_shot_sync(c)
    assert result.outcome is Outcome.OK
    assert len(commands(c)) == 2  # the clock batch and the probe


def test_one_shot_dry_run_changes_nothing() -> None:
    c = fake_host(offset=10800, probe=probe_output(daemon="running"))
    result = one_shot_sync(c, dry_run=True)
    assert result.changed and result.message.startswith("would set the clock")
    assert len(commands(c)) == 2


def test_hostile_server_names_are_quoted() -> None:
    """Settings refuse such names (test_safety_settings.py); the quoting stays as a second line."""
    server = "x;touch /tmp/pwned"
    command = "LC_ALL=C /usr/sbin/ntpdate 'x;touch /tmp/pwned'"
    c = fake_host(offset=10800, run={command: STEPPED})
    settings = settings_for(c)  # replaced, not validated: the name must reach the host quoted
    attach(c, replace(settings, ntp=replace(settings.ntp, servers=(server,)))).probe_token = ""
    assert one_shot_sync(c).changed
    assert command in commands(c)


# -- start_enable_daemon ----------------------------------------------------------------


def test_start_and_enable() -> None:
    c = fake_host(run={START: STARTED, ENABLE: Result("")})
    result = start_enable_daemon(c)
    assert result.changed and commands(c)[-2:] == [START, ENABLE]
    assert result.data["running"] is True and result.data["enabled"] is True


def test_already_running_and_enabled_is_ok() -> None:
    c = fake_host(probe=probe_output(daemon="running", enabled=True, synced=True))
    result = start_enable_daemon(c)
    assert result.outcome is Outcome.OK and "runlevels 2-5" in result.message
    assert len(commands(c)) == 2


def test_only_enable_when_running() -> None:
    c = fake_host(probe=probe_output(daemon="running"), run={ENABLE: Result("")})
    result = start_enable_daemon(c)
    assert result.changed and commands(c)[-1] == ENABLE and START not in commands(c)


def test_crashed_daemon_is_started() -> None:
    c = fake_host(probe=probe_output(daemon="crashed", enabled=True), run={START: STARTED})
    assert start_enable_daemon(c).changed and commands(c)[-1] == START


def test_enable_failure_fails() -> None:
    c = fake_host(
        probe=probe_output(daemon="running"), run={ENABLE: Result(stderr="chkconfig: not found", exited=127)}
    )
    result = start_enable_daemon(c)
    assert result.failed and "enable at boot" in result.message


def test_start_enable_dry_run() -> None:
    c = fake_host()
    result = start_enable_daemon(c, dry_run=True)
    assert result.changed and result.message == "would start and enable at boot ntpd"
    assert len(commands(c)) == 2


# -- the backward-step guard without a measured offset (issue 12, 5) -------------------------


def _no_reference(settings: object, **_: object) -> clock.Reference:
    raise NTPUnavailable("no NTP server answered usably: ntp.test: timed out")


def test_unknown_offset_refuses_every_step_that_may_set_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "reference_time", _no_reference)
    answers = {RESTART: Result(RESTART_SEED), NTPDATE: STEPPED, START: STARTED}
    c = fake_host(offset=-10 * 365 * 86400, run=answers)
    for step in (restart_daemon, one_shot_sync, start_enable_daemon):
        result = step(c)
        assert result.outcome is Outcome.FAILED, step
        assert "offset is unknown" in result.message and "--allow-backward-step" in result.message
    assert not {RESTART, NTPDATE, START} & set(commands(c))


def test_unknown_offset_goes_ahead_when_the_first_offset_was_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    c = fake_host(offset=10800, run={RESTART: Result(RESTART_SEED)})
    assert check_date(c).outcome is Outcome.OK  # measured 3 h behind: a forward step
    monkeypatch.setattr(clock, "reference_time", _no_reference)  # then the reference expired, NTP down
    assert restart_daemon(c).outcome is Outcome.CHANGED
    assert RESTART in commands(c)


def test_unknown_offset_is_refused_when_the_first_offset_was_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    c = fake_host(offset=-3600, run={RESTART: Result(RESTART_SEED)})
    assert check_date(c).outcome is Outcome.OK
    monkeypatch.setattr(clock, "reference_time", _no_reference)
    result = restart_daemon(c)
    assert result.outcome is Outcome.FAILED and "AHEAD" in result.message
    assert RESTART not in commands(c)


def test_allow_backward_step_lets_an_unknown_offset_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "reference_time", _no_reference)
    c = fake_host(run={RESTART: Result(RESTART_SEED)}, settings={"allow_backward_step": True})
    assert restart_daemon(c).outcome is Outcome.CHANGED
