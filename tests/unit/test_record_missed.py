"""The record's missed cron jobs: the table, one status per job everywhere, the rerun command, escaping."""

from __future__ import annotations

import shlex
from typing import Any

from runbook.record import host_json, render_host
from runbook.record.language import Language
from runbook.record.missed import missed_view
from runbook.results import HostRun, Outcome, StepResult
from runbook.settings import RecordSettings, Settings, parse_window
from runbook.stepdata import MissedJobs

T0 = 1503360723.0  # 2017-08-22 00:12:03 UTC
WINDOW = {"start": "2017-08-21T17:00:00+00:00", "end": "2017-08-21T20:05:00+00:00", "source": "given"}
TOKYO = Settings(records=RecordSettings(timezone="Asia/Tokyo"))


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
    result = StepResult(
        "missed_jobs", outcome, "4 job(s) due", [], T0, 0.1, data, dry_run=dry, kind=MissedJobs.kind
    )
    return HostRun(host="web01", results=[result], started=T0, finished=T0 + 1)


def seed_data(**extra: Any) -> dict[str, Any]:
    return {
        "zone": "Asia/Tokyo",
        "window": WINDOW,
        "missed": [
            job("/usr/local/bin/backup.sh", rerun=ran("by_backup", None, "rerun by the backup step")),
            job(
                "/usr/local/bin/sales-report",
                id="/etc/cron.d/sales-report:4",
                schedule="0 3 * * *",
            ),
            job(
                "/usr/local/bin/sync-reports",
                id="/var/spool/cron/admin:3",
                user="admin",
                schedule="*/30 * * * *",
                runs=[{"at": f"2017-08-22T0{h}:{m}:00+09:00"} for h in (2, 3, 4) for m in ("00", "30")],
            ),
        ],
        "anacron": [
            {"id": "anacron:cron.daily", "command": "run-parts daily", "due": True, "reason": "elapsed"},
            {"id": "anacron:cron.weekly", "command": "run-parts weekly", "due": False, "reason": "within"},
        ],
        "problems": ["/etc/cron.d/broken:1: bad minute"],
        **extra,
    }


def render(run: HostRun, settings: Settings = TOKYO) -> str:
    return render_host(run, settings, now=T0 + 2)


def section(text: str, heading: str) -> str:
    return text.split(f"## {heading}")[1].split("\n## ", maxsplit=1)[0]


def test_each_job_with_its_runs_in_the_operators_zone_and_utc() -> None:
    text = section(render(run_with(seed_data())), "Missed cron jobs")
    assert "2017-08-22 02:00–05:05 JST (2017-08-21 17:00–20:05 UTC) — given by the operator" in text
    assert "| /etc/cron.d/backup:2 | `0 18 * * *` | root | `/usr/local/bin/backup.sh` |" in text
    assert "| 2017-08-22 03:00 JST (2017-08-21 18:00 UTC) | rerun by the backup step |" in text
    assert "| `0 3 * * *` | root |" in text and "CRON_TZ" not in text  # the host's own zone
    assert "2017-08-22 03:00 JST (2017-08-21 18:00 UTC); and more | not rerun |" in text
    assert "`run-parts daily`" in text and "run-parts weekly" not in text
    assert "`/etc/cron.d/broken:1: bad minute`" in text


def test_a_job_the_backup_step_reran_is_said_so_everywhere() -> None:
    """Run with --backup and without --rerun: the backup's cron job is rerun, not "not selected"."""
    text = render(run_with(seed_data(), Outcome.OK))
    summary = section(text, "Summary")
    assert "- 1 missed cron job was the backup, rerun by the backup step." in summary
    left = summary.split("**Left**")[1]
    assert (
        "2 missed cron jobs were not rerun (/usr/local/bin/sales-report and /usr/local/bin/sync-reports)"
        in left
    )
    assert "backup.sh" not in left
    assert "| 3 due, 1 rerun, 2 not rerun |" in section(text, "Steps")
    assert "not selected" not in text


def test_left_gives_a_command_line_that_reruns_exactly_the_jobs_left() -> None:
    record = host_json(run_with(seed_data(), Outcome.OK), TOKYO, now=T0 + 2)
    command = next(item["command"] for item in record["summary"]["left"] if item["command"])
    words = shlex.split(command)
    assert words[:4] == ["runbook", "post-maint", "--host", "web01"]
    window = parse_window(words[words.index("--window") + 1])
    assert (window.start.isoformat(), window.end.isoformat()) == (
        "2017-08-21T17:00:00+00:00",
        "2017-08-21T20:05:00+00:00",
    )
    reruns = [words[i + 1] for i, word in enumerate(words) if word == "--rerun"]
    assert reruns == ["/usr/local/bin/sales-report", "/usr/local/bin/sync-reports"]


def test_failed_rerun_and_dry_run_read_plainly() -> None:
    data = seed_data()
    data["missed"][1].update(selected=True, rerun=ran(exit_code=2, note="exit 2"))
    text = render(run_with(data, Outcome.FAILED))
    assert "| rerun failed: exit 2 |" in text
    dry = seed_data()
    dry["missed"][1]["rerun"] = ran("would", None, "would rerun as root")
    result = run_with(dry, dry=True).results[0]
    view = missed_view(MissedJobs.from_data(result.data), Language(), TOKYO.records.zone)
    assert view is not None and view.rows[1].status == "would rerun (dry run)"
    assert [row.command for row in view.left] == ["/usr/local/bin/sync-reports"]


def test_cron_tz_job_shows_its_own_wall_time() -> None:
    data = seed_data(zone="UTC")
    data["missed"][0]["tz"] = "UTC"
    text = render(run_with(data), Settings())
    assert "| `0 3 * * * (CRON_TZ=Asia/Tokyo)` |" in text
    assert "| 2017-08-21 18:00 UTC [03:00 JST, CRON_TZ] |" in text


def test_an_inferred_window_is_a_clock_gap_not_a_maintenance_window() -> None:
    inferred = {**WINDOW, "source": "inferred from the 3 h clock lag"}
    text = render(run_with(seed_data(window=inferred)))
    assert (
        "| Clock gap | 2017-08-22 02:00–05:05 JST (2017-08-21 17:00–20:05 UTC); "
        "inferred from the 3 h clock lag |"
    ) in text
    assert "— clock gap, inferred from the 3 h clock lag" in text
    assert "Maintenance window" not in text and "in the maintenance window" not in text
    assert "- 3 cron jobs were due during the clock gap and did not run." in text


def test_hostile_commands_stay_inside_their_cells() -> None:
    hostile = "a | b `c` <script>x</script>\n# heading ``` fence"
    data = seed_data(missed=[job(hostile, id="/etc/cron.d/x|y:1", user="ro|ot", schedule="* * * * *|")])
    text = render(run_with(data))
    row = next(line for line in text.splitlines() if line.startswith("| /etc/cron.d/x"))
    assert row.replace("\\|", "").count("|") == 7
    assert "``a \\| b `c` <script>x</script> ↵ # heading ``` fence``" in row
    assert "\n# heading" not in text


def test_no_section_without_a_window_or_a_due_job() -> None:
    assert "## Missed cron jobs" not in render(run_with({"zone": "UTC"}, Outcome.SKIPPED))
    assert "## Missed cron jobs" not in render(run_with(seed_data(missed=[]), Outcome.OK))


def test_malformed_data_never_breaks_the_record() -> None:
    data = {
        "window": {"start": "nonsense", "end": None},
        "missed": ["x", {"runs": "y", "rerun": 3}],
        "zone": 5,
    }
    assert missed_view(MissedJobs.from_data(data), Language(), TOKYO.records.zone) is None
    render(run_with(data))
    good = {"window": WINDOW, "missed": ["x", {"runs": "y", "rerun": 3}], "zone": 5}
    view = missed_view(MissedJobs.from_data(good), Language(), TOKYO.records.zone)
    assert view is not None and view.rows[0].status == "not rerun"
    assert "## Missed cron jobs" in render(run_with(good))


def test_a_missed_backup_the_backup_step_found_fresh_is_not_left_to_rerun() -> None:
    """A second run: the first one reran the backup, so its missed cron run needs nothing more."""
    data = seed_data()
    data["missed"][0]["rerun"] = None
    backup = StepResult(
        "rerun_backup",
        Outcome.OK,
        "backup is fresh",
        data={"rerun": False, "age": 60.0, "command": "/usr/local/bin/backup.sh"},
        kind="backup_rerun",
    )
    run = run_with(data, Outcome.OK)
    run.results.insert(0, backup)
    text = render(run)
    assert "| not needed: the backup step found the backup fresh |" in text
    assert "| 3 due, 0 rerun, 2 not rerun, 1 not needed |" in text
    left = text.split("**Left**")[1].split("## ")[0]
    assert "backup.sh" not in left and "--rerun /usr/local/bin/sales-report" in left
