"""The record's Missed cron jobs section: content, the summary line, the header's window, escaping."""

from __future__ import annotations

from typing import Any

from runbook.record import render_host
from runbook.record.missed import missed_summary, missed_view
from runbook.results import HostRun, Outcome, StepResult
from runbook.settings import Settings

T0 = 1503360723.0  # 2017-08-22 00:12:03 UTC
WINDOW = {"start": "2017-08-21T17:00:00+00:00", "end": "2017-08-21T20:05:00+00:00", "source": "given"}


def job(command: str, *, at: str = "2017-08-21T18:00:00+00:00", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "/etc/cron.d/backup:2",
        "user": "root",
        "schedule": "0 18 * * *",
        "command": command,
        "tz": "Asia/Tokyo",
        "runs": [{"at": at, "utc": at, "host_reached": False}],
        "truncated": False,
        "selected": False,
        "rerun": None,
    }
    return {**base, **fields}


def ran(state: str = "ran", exit_code: int | None = 0, note: str = "") -> dict[str, Any]:
    return {"state": state, "exit_code": exit_code, "duration": 0.4, "tail": [], "note": note}


def run_with(data: dict[str, Any], outcome: Outcome = Outcome.CHANGED, dry: bool = False) -> HostRun:
    result = StepResult("missed_jobs", outcome, "4 job(s) due", [], T0, 0.1, data, dry_run=dry)
    return HostRun(host="web01", results=[result], started=T0, finished=T0 + 1)


def seed_data(**extra: Any) -> dict[str, Any]:
    return {
        "zone": "Asia/Tokyo",
        "window": WINDOW,
        "missed": [
            job("/usr/local/bin/backup.sh", selected=True, rerun=ran()),
            job(
                "/usr/local/bin/sales-report",
                id="/etc/cron.d/sales-report:4",
                schedule="0 3 * * *",
                tz="Asia/Tokyo",
            ),
            job(
                "/usr/local/bin/sync-reports",
                id="/var/spool/cron/admin:3",
                user="admin",
                schedule="*/30 * * * *",
                tz="Asia/Tokyo",
                runs=[{"at": f"2017-08-22T0{h}:{m}:00+09:00"} for h in (2, 3, 4) for m in ("00", "30")],
            ),
        ],
        "anacron": [
            {"id": "anacron:cron.daily", "command": "run-parts", "due": True, "reason": "period elapsed"},
            {"id": "anacron:cron.weekly", "command": "run-parts", "due": False, "reason": "within"},
        ],
        "problems": ["/etc/cron.d/broken:1: bad minute"],
        **extra,
    }


def render(run: HostRun, settings: Settings | None = None) -> str:
    return render_host(run, settings or Settings(timezone="Asia/Tokyo"), now=T0 + 2)


def test_section_lists_each_job_with_runs_in_host_zone_and_utc() -> None:
    text = render(run_with(seed_data()))
    section = text.split("## Missed cron jobs")[1].split("## Details")[0]
    assert "Window: 2017-08-22 02:00–05:05 JST (2017-08-21 17:00–20:05 UTC) — given." in section
    assert "| /etc/cron.d/backup:2 | `0 18 * * *` | root | `/usr/local/bin/backup.sh` |" in section
    assert "2017-08-22 03:00 JST (18:00 UTC) | rerun: exit 0 in 0.4 s |" in section
    # the host's zone is Tokyo, so a CRON_TZ of Tokyo is not called out
    assert "| `0 3 * * *` | root |" in section and "CRON_TZ" not in section
    assert "2017-08-22 03:30 JST (18:30 UTC); … 2 more | not selected |" in section
    assert "**Rerun:** 1\n- /usr/local/bin/backup.sh (/etc/cron.d/backup:2): rerun: exit 0" in section
    assert "**Missed, not rerun:** 2\n" in section
    assert "- run-parts (anacron:cron.daily): period elapsed" in section
    assert "anacron:cron.weekly" not in section
    assert "- /etc/cron.d/broken:1: bad minute" in section
    summary = text.split("## Summary")[1].split("## Steps")[0]
    assert "- **Missed jobs:** 3 cron jobs due in the window 2017-08-22 02:00–05:05 JST" in summary
    assert ": 1 rerun, 2 missed and not rerun; 1 anacron job due (anacron runs them itself)." in summary


def test_cron_tz_job_shows_its_own_wall_time() -> None:
    data = seed_data(zone="UTC")
    data["missed"][0]["tz"] = "UTC"
    text = render(run_with(data))
    assert "| `0 3 * * * (CRON_TZ=Asia/Tokyo)` |" in text
    assert "| 2017-08-21 18:00 UTC (03:00 JST by CRON_TZ) |" in text


def test_backup_step_rerun_failed_rerun_and_dry_run_read_plainly() -> None:
    data = seed_data()
    data["missed"][0]["rerun"] = ran("by_backup", None, "rerun by the backup step")
    data["missed"][1].update(selected=True, rerun=ran(exit_code=2, note="exit 2"))
    text = render(run_with(data, Outcome.FAILED))
    assert "| rerun by the backup step |" in text
    assert "| rerun FAILED: exit 2 in 0.4 s |" in text
    assert "**Rerun:** 2\n" in text and "**Missed, not rerun:** 1\n" in text  # a failed rerun was rerun
    dry = seed_data()
    dry["missed"][0]["rerun"] = ran("would", None, "would rerun as root")
    view = missed_view(run_with(dry, dry=True))
    assert view is not None and view.rows[0].rerun == "would rerun (dry run)"
    assert ": 1 would be rerun, 3 missed and not rerun" in missed_summary(run_with(dry, dry=True))


def test_inferred_window_goes_into_the_header_with_its_source() -> None:
    inferred = {**WINDOW, "source": "inferred from the 3 h clock lag"}
    text = render(run_with(seed_data(window=inferred)))
    assert (
        "| Maintenance window | 2017-08-22 02:00–05:05 JST (2017-08-21 17:00–20:05 UTC) "
        "(inferred from the 3 h clock lag) |"
    ) in text


def test_hostile_commands_stay_inside_their_cells() -> None:
    hostile = "a | b `c` <script>x</script>\n# heading ``` fence"
    data = seed_data(missed=[job(hostile, id="/etc/cron.d/x|y:1", user="ro|ot", schedule="* * * * *|")])
    text = render(run_with(data))
    row = next(line for line in text.splitlines() if line.startswith("| /etc/cron.d/x"))
    # 6 cells: every | from the host is escaped, nothing opens a block or a tag
    assert row.replace("\\|", "").count("|") == 7
    assert "``a \\| b `c` <script>x</script> ↵ # heading ``` fence``" in row
    assert "\n# heading" not in text
    assert "- a \\| b" not in text and "- a | b `c` &lt;script>" in text


def test_no_section_without_the_step_or_a_window() -> None:
    assert "## Missed cron jobs" not in render(run_with({"zone": "UTC"}, Outcome.SKIPPED))
    empty = HostRun(host="web01", results=[], started=T0, finished=T0 + 1)
    assert missed_view(empty) is None and missed_summary(empty) == ""
    text = render(run_with(seed_data(missed=[], anacron=[], problems=[]), Outcome.OK))
    assert "No cron job was due in the window." in text


def test_malformed_data_never_breaks_the_record() -> None:
    window = {"start": "nonsense", "end": None}
    data = {"window": window, "missed": ["x", {"runs": "y", "rerun": 3}], "zone": 5}
    view = missed_view(run_with(data))
    assert view is not None and view.window == "unknown"
    assert view.rows[0].rerun == "not selected"
    assert "## Missed cron jobs" in render(run_with(data))
