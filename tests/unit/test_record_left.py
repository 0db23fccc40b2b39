"""What is left: only what is still open, once each, each with its next action, read from typed data."""

from __future__ import annotations

from typing import Any

from record_checks import list_items

from runbook.record import host_json, render_host
from runbook.record.model import host_record
from runbook.results import HostRun, Outcome, StepResult
from runbook.settings import Settings

T0 = 1503360723.0


def result(
    kind: str, outcome: Outcome = Outcome.OK, warnings: list[str] | None = None, **data: Any
) -> StepResult:
    return StepResult(kind, outcome, f"{kind} said so", [], T0, 0.1, data, warnings or [], kind=kind)


def left_of(*results: StepResult) -> list[str]:
    run = HostRun("web01", list(results), T0, T0 + 1)
    return [item["text"] for item in host_json(run, Settings(), now=T0)["summary"]["left"]]


def test_ntpd_without_g_is_left_once_and_the_panic_warnings_are_not_repeated() -> None:
    panic = "offset +10,800.0 s is over ntpd's 1000 s panic threshold: ntpd started without -g exits"
    run = HostRun(
        "web01",
        [
            result("clock_check", offset=10800.0, bound=0.001, warnings=[panic]),
            result(
                "daemon_restart",
                Outcome.CHANGED,
                warnings=[panic],
                daemon="ntpd",
                was_running=False,
                start="ok",
                no_panic_override="/etc/sysconfig/ntpd",
            ),
        ],
        T0,
        T0 + 1,
    )
    md = render_host(run, Settings(), now=T0)
    assert md.count("panic threshold") == 1
    assert "ntpd runs without -g (/etc/sysconfig/ntpd): after the next long pause it exits" in md
    assert "Add -g to its options." in list_items(md)[-1]


def test_chrony_without_makestep_and_a_daemon_not_enabled_are_left() -> None:
    left = left_of(
        result(
            "daemon_restart",
            daemon="chronyd",
            was_running=True,
            makestep_warning="chrony.conf (/etc/chrony.conf) has no makestep",
        ),
        result(
            "daemon_boot", daemon="chronyd", was_running=True, was_enabled=False, running=True, enabled=False
        ),
    )
    assert left == [
        "chrony.conf has no makestep that applies after start-up: after the next long pause chronyd only "
        "slews, for days. Add 'makestep 1 -1'.",
        "chronyd is still not enabled at boot: enable it.",
    ]


def test_a_healthy_host_leaves_nothing() -> None:
    run = HostRun(
        "web01",
        [
            result("clock_check", offset=0.001, bound=0.001, synchronised=True, peer="10.0.0.2"),
            result(
                "daemon_boot", daemon="ntpd", was_running=True, was_enabled=True, running=True, enabled=True
            ),
        ],
        T0,
        T0 + 1,
    )
    md = render_host(run, Settings(), now=T0)
    assert md.startswith("# Maintenance record — web01 — OK (nothing to do)\n")
    assert "**Found**\n- Nothing wrong.\n" in md and "**Left**\n- Nothing.\n" in md


def test_a_failed_step_is_left_with_what_to_do_and_no_fixed_verdict() -> None:
    left = left_of(result("site_answers", Outcome.FAILED, checks=[]))
    assert left == [
        "Step 1, site answers, failed: site_answers said so. See its details below, fix the cause, "
        "then run post-maint again."
    ]


def done_and_note(sync: StepResult) -> tuple[list[str], str]:
    run = HostRun("web01", [result("clock_check", offset=330.0, bound=0.001), sync], T0, T0 + 1)
    record = host_record(run, Settings(), now=T0)
    return record.done, record.steps[1].note


def test_a_chrony_sync_names_its_tool_and_source_and_an_unknown_server_is_left_out() -> None:
    """On a real Debian 12 VM the record said "Set the clock with chronyd (chronyd)." and "set the
    clock with ?": chrony's sync gave its daemon as the server and no tool."""
    chrony = result("clock_sync", Outcome.CHANGED, tool="chronyc makestep", server="10.0.0.2", method="step")
    done, note = done_and_note(chrony)
    assert done[0] == "Set the clock with chronyc makestep (10.0.0.2)."
    assert note == "set the clock with chronyc makestep"
    timesyncd = result("clock_sync", Outcome.CHANGED, tool="systemd-timesyncd", server=None, method="step")
    done, note = done_and_note(timesyncd)
    assert done[0] == "Set the clock with systemd-timesyncd."
    assert note == "set the clock with systemd-timesyncd"
    stepped = result("clock_sync", Outcome.CHANGED, tool="chronyd -q", stepped=330.0, method="step")
    assert done_and_note(stepped)[0][0] == "Stepped the clock +330.000 s with chronyd -q."
