"""A run in a few words: the subject's headline and the worst verdict, one host or a fleet."""

from __future__ import annotations

import pytest
from notify_runs import failed_run, japanese_run

from runbook.notify.summary import summarise
from runbook.results import FleetRun, HostRun, Outcome, StepResult


def ok_run(host: str) -> HostRun:
    return HostRun(host=host, results=[StepResult("check_date", Outcome.OK, "clock right")])


def skipped_run(host: str) -> HostRun:
    return HostRun(host=host, results=[StepResult("check_site", Outcome.SKIPPED, "no URL to check")])


def dry(run: HostRun) -> HostRun:
    for result in run.results:
        result.dry_run = True
    return run


def interrupted(run: HostRun) -> HostRun:
    run.interrupted = True
    return run


@pytest.mark.parametrize(
    ("runs", "headline", "verdict"),
    [
        ([japanese_run("web01")], "web01 FIXED, 2 LEFT", "FIXED"),
        ([ok_run("web01")], "web01 OK", "OK"),
        ([failed_run("web01")], "web01 FAILED", "FAILED"),
        ([dry(japanese_run("web01"))], "web01 DRY RUN", "DRY RUN"),
        ([interrupted(japanese_run("web01"))], "web01 INTERRUPTED", "INTERRUPTED"),
        ([ok_run("a"), ok_run("b")], "2 hosts OK", "OK"),
        ([skipped_run("a"), skipped_run("b")], "2 hosts, every step SKIPPED", "SKIPPED"),
        ([skipped_run("a"), ok_run("b")], "2 hosts OK", "OK"),
        ([ok_run("a"), japanese_run("b")], "2 hosts, 1 FIXED", "FIXED"),
        ([failed_run("a"), failed_run("b"), japanese_run("c")], "3 hosts, 2 FAILED, 1 FIXED", "FAILED"),
        (
            [interrupted(japanese_run("a")), failed_run("b")],
            "2 hosts, 1 INTERRUPTED, 1 FAILED",
            "INTERRUPTED",
        ),
        ([dry(japanese_run("a")), dry(ok_run("b"))], "2 hosts, DRY RUN, 1 would change", "DRY RUN"),
        ([dry(ok_run("a")), dry(ok_run("b"))], "2 hosts, DRY RUN, nothing to change", "DRY RUN"),
        ([dry(ok_run("a")), failed_run("b")], "2 hosts, DRY RUN, 1 FAILED", "DRY RUN, FAILED"),
        ([ok_run("web01\nSubject: x")], "web01 ↵ Subject: x OK", "OK"),
    ],
)
def test_headline_and_verdict(runs: list[HostRun], headline: str, verdict: str) -> None:
    summary = summarise(FleetRun(runs))
    assert summary.headline == headline
    assert summary.verdict == verdict


def test_a_long_fleet_lists_twenty_hosts_that_need_a_look_and_counts_the_rest() -> None:
    runs = [failed_run(f"web{n:02}") for n in range(25)] + [ok_run("db01")]
    text = summarise(FleetRun(runs), {}).plain_text("Records: /srv/records on monitor01")
    lines = text.splitlines()
    assert lines[0] == "runbook: 26 hosts, 25 FAILED"
    assert lines[1] == "• web00: FAILED (host error) — ssh: connection refused (port 22)"
    assert lines[21] == "… and 5 more"
    assert lines[22] == "Records: /srv/records on monitor01"
    assert "db01" not in text


def test_a_failed_hosts_line_says_why_on_one_short_line() -> None:
    run = failed_run("db01")
    run.error = "ssh: Could not resolve hostname db01:\nName or service not known " + "x" * 200
    fleet = FleetRun([run, ok_run("web01")])
    [line] = [line for line in summarise(fleet).plain_text("").splitlines() if "db01" in line]
    assert line.startswith("• db01: FAILED (host error) — ssh: Could not resolve hostname db01: ↵ Name or")
    assert line.endswith("x…")
    assert len(line) < 120


def test_a_fleet_stopped_early_says_why() -> None:
    fleet = FleetRun([failed_run("web01"), ok_run("web02")], stopped="--fail-fast after web01 failed")
    text = summarise(fleet).plain_text("")
    assert "Stopped early: --fail-fast after web01 failed" in text.splitlines()
