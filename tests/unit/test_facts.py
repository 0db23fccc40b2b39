"""Parsers over recorded outputs (tests/cases), full probe outputs, fuzzing, and the per-connection cache."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from invoke.runners import Result
from recorded_cases import case_files, check_case

from runbook import clock, facts
from runbook.clock import parse_time_reading
from runbook.commands import StepRecorder
from runbook.daemons import ntp
from runbook.errors import NTPUnavailable, ProbeError
from runbook.facts.gather import at_least
from runbook.probe import split_sections
from runbook.settings import BackupSettings, build_settings
from runbook.steps.timesync import parse_ntpdate
from runbook.testing import PROBE, fake_host, probe_output
from runbook.timeservice import parse_chkconfig, parse_service_actions


def _reading(text: str, rc: int | None) -> Any:
    found = parse_time_reading(text)
    return None if found is None else {"value": found[0], "half": found[1]}


def _chkconfig(text: str, rc: int | None) -> Any:
    enabled, levels = parse_chkconfig(text, rc)
    return {"enabled": enabled, "runlevels": list(levels)}


def _readvar(text: str) -> Any:
    state = ntp.parse_readvar(text)
    return {**asdict(state), "lines": list(state.lines)}


PARSERS: dict[str, Callable[[str, int | None], Any]] = {
    "ntpdate": lambda text, rc: asdict(parse_ntpdate(text, rc)),
    "ntpq": lambda text, rc: asdict(ntp.parse_ntpq(text)),
    "ntpstat": lambda text, rc: asdict(ntp.parse_ntpstat(text, rc)),
    "readvar": lambda text, rc: _readvar(text),
    "service": lambda text, rc: parse_service_actions(text),
    "chkconfig": _chkconfig,
    "reading": _reading,
    "timestamp": lambda text, rc: facts.parse_timestamp(text),
    "os": lambda text, rc: facts.parse_os(text),
}
CASE_FILES = case_files(PARSERS)


def test_every_parser_has_cases() -> None:
    assert {path.parent.name for path in CASE_FILES} == set(PARSERS)


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_case(path: Path) -> None:
    check_case(PARSERS, path)


@settings(max_examples=300, deadline=None)
@given(st.text(), st.one_of(st.none(), st.integers(-5, 300)))
def test_no_parser_raises_on_arbitrary_text(text: str, rc: int | None) -> None:
    for parse in PARSERS.values():
        parse(text, rc)
    sections = split_sections(text)
    backup = BackupSettings(command="b", evidence_file="/f", check_command="c")
    facts.parse_facts(sections, backup, None)
    facts.parse_facts({key: text for key in _SECTION_NAMES}, backup, None)


_SECTION_NAMES = [
    "hostname", "os", "init", "daemon.ntpd", "daemon.ntpd.status", "daemon.ntpd.status.rc",
    "daemon.ntpd.enabled", "daemon.ntpd.enabled.rc", "sync.ntpq", "sync.ntpq.rc", "sync.ntpstat",
    "sync.ntpstat.rc", "tools", "backup.file", "backup.file.rc", "backup.check", "backup.check.rc", "date",
]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["@@runbook:a@@", "@@runbook:b.rc@@", "x", "", "@@runbook:@@", "\r"]), max_size=12
    )
)
def test_split_sections_never_loses_a_header(lines: list[str]) -> None:
    sections = split_sections("\n".join(lines))
    for line in lines:
        if line in {"@@runbook:a@@", "@@runbook:b.rc@@"}:
            assert line[10:-2] in sections


def test_split_sections() -> None:
    text = "noise\n@@runbook:a@@\none\ntwo\r\n@@runbook:b.rc@@\n0\n@@runbook:a@@\nthree\n@@runbook:empty@@\n"
    assert split_sections(text) == {"": "noise", "a": "one\ntwo\nthree", "b.rc": "0", "empty": ""}


# -- whole probe outputs ----------------------------------------------------------------------


def test_centos6_after_maintenance() -> None:
    backup = BackupSettings(command="b", evidence_file="/var/lib/backup/last-success", check_command="check")
    text = probe_output(daemon="stopped", backup_file="1503254047", check=(1, "backup is 27 h old"))
    found = facts.parse_facts(split_sections(text), backup, None)
    assert (found.hostname, found.os, found.init) == ("web01", "CentOS release 6.10 (Final)", "sysv")
    ntpd = found.daemon("ntpd")
    assert ntpd is not None and ntpd.installed and not ntpd.running and ntpd.enabled is False
    assert ntpd.status == "ntpd is stopped" and ntpd.status_rc == 3 and ntpd.pid_file == "absent"
    assert found.sync.synchronised is None
    assert found.tools["ntpdate"] == "/usr/sbin/ntpdate"
    assert found.backup == facts.BackupEvidence(1503254047.0, 1, "1503254047\nbackup is 27 h old", None)
    service = found.service()
    assert service is not None and service[0].daemon == "ntpd"
    assert found.header() == {
        "hostname": "web01",
        "os": "CentOS release 6.10 (Final)",
        "init": "sysv",
        "daemon": "ntpd",
    }
    json.dumps(found.to_dict())


def test_healthy_and_crashed_daemons() -> None:
    healthy = facts.parse_facts(
        split_sections(probe_output(daemon="running", enabled=True, synced=True)), None, None
    )
    ntpd = healthy.daemon("ntpd")
    assert ntpd is not None and ntpd.running and ntpd.enabled and ntpd.runlevels == (2, 3, 4, 5)
    assert healthy.sync.synchronised and healthy.sync.peer == "10.200.0.1" and healthy.backup is None
    crashed = facts.parse_facts(split_sections(probe_output(daemon="crashed")), None, None)
    ntpd = crashed.daemon("ntpd")
    assert ntpd is not None and not ntpd.running and ntpd.pid_file == "stale" and ntpd.status_rc == 1


def test_an_unknown_init_system_has_no_service() -> None:
    found = facts.parse_facts(split_sections(probe_output(init="unknown")), None, None)
    assert found.service() is None and found.header()["daemon"] is None


def test_ntpstat_used_when_ntpq_says_nothing() -> None:
    sections = {
        "sync.ntpq": "ntpq: read: Connection refused",
        "sync.ntpq.rc": "1",
        "sync.ntpstat": "synchronised to NTP server (10.0.0.5) at stratum 3",
        "sync.ntpstat.rc": "0",
    }
    state = facts.parse_sync(sections)
    assert state.synchronised and state.peer == "10.0.0.5" and state.source == "ntpstat"


def test_backup_evidence_errors() -> None:
    backup = BackupSettings(command="b", evidence_file="/f")
    missing = facts.parse_backup({"backup.file": "cat: /f: No such file", "backup.file.rc": "1"}, backup)
    assert missing.last_success is None and missing.error and "unreadable" in missing.error
    junk = facts.parse_backup({"backup.file": "garbage", "backup.file.rc": "0"}, backup)
    assert junk.error and "no timestamp" in junk.error
    check = facts.parse_backup({}, BackupSettings(command="b", check_command="c"))
    assert check.check_rc is None and check.error


# -- the per-connection cache -----------------------------------------------------------------


def test_facts_for_probes_once_and_forget_facts_reprobes() -> None:
    c = fake_host(offset=100)
    settings = build_settings({})
    rec = StepRecorder("a")
    first = facts.facts_for(c, rec, settings)
    assert len(rec.commands) == 2 and rec.commands[1].command.startswith("LC_ALL=C LC_ALL=C; export LC_ALL;")
    assert first.clock is not None and first.clock.method == "date (one command)"
    assert facts.cached_facts(c) is first
    again = StepRecorder("b")
    assert facts.facts_for(c, again, settings) is first and again.commands == []
    facts.forget_facts(c)
    assert facts.cached_facts(c) is None
    assert facts.facts_for(c, again, settings) is not first and len(again.commands) == 2


def test_probe_failure_raises() -> None:
    c = fake_host(run={PROBE: Result("", stderr="sh: oops", exited=2)})
    with pytest.raises(ProbeError, match=r"exit 2.*oops"):
        facts.facts_for(c, StepRecorder("a"), build_settings({}))


def test_cron_scope_reads_everything_unless_the_clock_is_measured_right(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference = clock.Reference("ntp", 2, 0.0, 0.0, 0.0)
    monkeypatch.setattr(clock, "reference_time", lambda settings: reference)
    host_now = time.time()
    timings = [clock.Timing(host_now, 0.001, f"{host_now - 0.2:.6f}")]
    settings = build_settings({})
    assert facts.cron_scope(settings, clock.best_sample("epochrealtime", timings)) == "boot"
    lagging = [clock.Timing(host_now, 0.001, f"{host_now - 3 * 3600:.6f}")]
    assert facts.cron_scope(settings, clock.best_sample("epochrealtime", lagging)) == "all"
    assert facts.cron_scope(settings, None) == "all"
    given = build_settings({"window": "2017-08-22 02:00..05:00 Asia/Tokyo"})
    assert facts.cron_scope(given, clock.best_sample("epochrealtime", timings)) == "all"

    def unavailable(settings: object) -> clock.Reference:
        raise NTPUnavailable("no NTP server answered usably")

    monkeypatch.setattr(clock, "reference_time", unavailable)
    assert facts.cron_scope(settings, clock.best_sample("epochrealtime", timings)) == "all"


def test_a_step_can_ask_for_a_wider_cron_scope_never_a_narrower_one() -> None:
    assert at_least("jobs", "boot") == "jobs"  # compare's cron schedule on a healthy host
    assert at_least("jobs", "all") == "all"  # a lagging clock: missed_jobs needs everything
    assert at_least(None, "boot") == "boot"
