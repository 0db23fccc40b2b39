"""The check's verdict on probed facts, and its output in the plugins' format and as JSON."""

from __future__ import annotations

import json

from runbook import clock
from runbook.check.output import perf_label, render, render_json
from runbook.check.ranges import Thresholds, parse_range
from runbook.check.states import State
from runbook.check.verdict import CheckOptions, HostCheck, judge, unknown
from runbook.facts import HostFacts, parse_boot_id, parse_facts
from runbook.probe import split_sections
from runbook.settings import BackupSettings, Settings
from runbook.testing import probe_output, section

DEFAULT = Thresholds(parse_range("0.5"), parse_range("1"))
BACKUP = BackupSettings(command="b", evidence_file="/var/lib/backup/last-success")
BOOT_ID = "0f6b1d1e-4c7a-4a57-9b0e-5d3c2a1b0c9d"
NOW = 1_796_000_000.0


def facts(**knobs: object) -> HostFacts:
    extra = section("boot_id", BOOT_ID)
    text = probe_output(**knobs) + extra  # type: ignore[arg-type]
    return parse_facts(split_sections(text), BACKUP if "backup_file" in knobs else None, None)


def measured(offset: float) -> clock.Measurement:
    now = NOW
    return clock.Measurement(
        offset, 0.0021, now - offset, now, "ntp.test", 2, 0.0, 7, 0.0037, "epochrealtime"
    )


def verdict(offset: float, options: CheckOptions | None = None, **knobs: object) -> HostCheck:
    settings = Settings(backup=BACKUP if "backup_file" in knobs else None)
    return judge(
        "web01",
        facts(**knobs),
        measured(offset),
        options or CheckOptions(DEFAULT),
        settings,
        NOW,
    )


def test_the_seed_host_is_critical_with_the_issues_first_line() -> None:
    found = verdict(10800.000123, daemon="stopped")
    assert found.state is State.CRITICAL
    assert found.summary == "offset +10800.0 s; ntpd not running, disabled at boot"
    assert render([found], DEFAULT) == (
        "CLOCK CRITICAL - offset +10800.0 s; ntpd not running, disabled at boot"
        " | offset=10800.000123s;0.5;1;; bound=0.002100s;;;0; rtt=0.003700s;;;0; sync=U;;;0;1\n"
    )
    assert found.boot_id == BOOT_ID


def test_a_healthy_host_is_ok() -> None:
    found = verdict(-0.0042, daemon="running", enabled=True, synced=True)
    assert found.state is State.OK
    assert found.summary == "offset -0.004 s; ntpd synchronised to 10.200.0.1"
    assert render([found], DEFAULT).startswith(
        "CLOCK OK - offset -0.004 s; ntpd synchronised to 10.200.0.1 | "
    )
    assert "sync=1;;;0;1" in render([found], DEFAULT)


def test_each_condition_raises_its_own_level_and_can_be_ignored() -> None:
    in_step = 0.01
    assert verdict(in_step, daemon="stopped").state is State.CRITICAL
    quiet = CheckOptions(DEFAULT, daemon=None, sync=None, backup=None)
    assert verdict(in_step, quiet, daemon="stopped").state is State.OK
    assert (
        verdict(in_step, CheckOptions(DEFAULT, daemon=State.WARNING), daemon="stopped").state is State.WARNING
    )
    unsynced = verdict(in_step, daemon="running", enabled=True, synced=False)
    assert (unsynced.state, unsynced.summary) == (
        State.WARNING,
        "offset +0.010 s; ntpd not synchronised",
    )
    strict = CheckOptions(DEFAULT, sync=State.CRITICAL)
    assert verdict(in_step, strict, daemon="running", enabled=True, synced=False).state is State.CRITICAL
    assert verdict(in_step, quiet, daemon="running", enabled=True, synced=False).state is State.OK
    # running but disabled at boot: a warning at most, whatever --daemon says
    disabled = verdict(in_step, daemon="running", enabled=False, synced=True)
    assert (disabled.state, disabled.summary) == (
        State.WARNING,
        "offset +0.010 s; ntpd synchronised to 10.200.0.1, disabled at boot",
    )
    assert verdict(in_step, quiet, daemon="running", enabled=False, synced=True).state is State.OK
    assert verdict(in_step, daemon="absent").summary == "offset +0.010 s; no time daemon installed"


def test_a_stale_backup_raises_the_state_only_when_one_is_configured() -> None:
    old = str(int(NOW - 27 * 3600))
    stale = verdict(0.0, daemon="running", enabled=True, synced=True, backup_file=old)
    assert stale.state is State.WARNING
    assert stale.summary.endswith("; backup stale: last success 1d 3h 0m 0s ago (max age 1d 2h 0m 0s)")
    assert stale.backup_age == 27 * 3600
    fresh = verdict(0.0, daemon="running", enabled=True, synced=True, backup_file=str(int(NOW)))
    assert fresh.state is State.OK and "backup" not in fresh.summary
    ignored = CheckOptions(DEFAULT, backup=None)
    assert (
        verdict(0.0, ignored, daemon="running", enabled=True, synced=True, backup_file=old).state is State.OK
    )
    assert verdict(0.0, daemon="running", enabled=True, synced=True).backup_age is None


def test_several_hosts_worst_first_line_then_one_line_per_host() -> None:
    broken = verdict(10800.0, daemon="stopped")
    broken.host = "lab1"
    healthy = verdict(0.001, daemon="running", enabled=True, synced=True)
    healthy.host = "lab 2"
    lost = unknown("lab3", "lab3 (10.0.0.3:22) is unreachable: timed out")
    lines = render([broken, healthy, lost], DEFAULT).splitlines()
    assert lines[0].startswith(
        "CLOCK CRITICAL - 3 hosts: 1 critical, 1 unknown, 1 ok | lab1_offset=10800.000000s;"
    )
    assert "'lab 2_offset'=0.001000s;0.5;1;;" in lines[0] and "lab3_" not in lines[0]
    assert lines[1:] == [
        "lab1 CRITICAL - offset +10800.0 s; ntpd not running, disabled at boot",
        "lab 2 OK - offset +0.001 s; ntpd synchronised to 10.200.0.1",
        "lab3 UNKNOWN - lab3 (10.0.0.3:22) is unreachable: timed out",
    ]
    document = json.loads(render_json([broken, healthy, lost]))
    assert (document["state"], document["code"]) == ("CRITICAL", 2)
    assert [h["state"] for h in document["hosts"]] == ["CRITICAL", "OK", "UNKNOWN"]
    assert document["hosts"][0]["offset"] == 10800.0 and document["hosts"][0]["running"] is False


def test_unknown_alone_has_no_perfdata_and_no_pipe_in_text() -> None:
    assert (
        render([unknown("h", "no NTP reference: a|b")], DEFAULT) == "CLOCK UNKNOWN - no NTP reference: a/b\n"
    )


def test_perf_labels_are_quoted_as_the_guidelines_say() -> None:
    assert perf_label("offset") == "offset"
    assert perf_label("web 1_offset") == "'web 1_offset'"
    assert perf_label("o'brien=x") == "'o''brien_x'"


def test_boot_id_is_read_only_when_it_is_a_uuid() -> None:
    assert parse_boot_id(BOOT_ID.upper() + "\n") == BOOT_ID
    assert parse_boot_id("") is None
    assert parse_boot_id("@@runbook:date@@") is None
    assert parse_facts(split_sections(probe_output()), None, None).boot_id is None
