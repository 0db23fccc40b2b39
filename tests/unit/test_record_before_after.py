"""The record's "Since before the maintenance" section in English and Japanese, from compare's data."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from record_checks import tables
from record_seed import seed_run, seed_settings
from test_record_language import english_pieces, outside_code

from runbook.record import render_host
from runbook.results import HostRun, Outcome, StepResult

GONE_JOB = "45 3 * * * /usr/local/bin/dump --password=*** (root)"
FINDINGS = [
    {"kind": "service", "level": "failure", "subject": "httpd", "before": "running", "now": "stopped"},
    {
        "kind": "socket",
        "level": "failure",
        "subject": "tcp 0.0.0.0:80 (httpd)",
        "before": "listening",
        "now": "closed",
    },
    {"kind": "disk", "level": "warning", "subject": "/srv", "before": "40% used", "now": "55% used"},
    {"kind": "cron", "level": "warning", "subject": GONE_JOB, "before": "scheduled", "now": "gone"},
    {"kind": "kernel", "level": "info", "subject": "kernel", "before": "6.1.0-1", "now": "6.1.0-2"},
]


def with_compare(data: dict[str, Any]) -> HostRun:
    run = seed_run()
    result = StepResult(
        "compare",
        Outcome.FAILED,
        "2 problems since 2026-12-05T20:00:00Z: httpd ran before and is stopped now; tcp 0.0.0.0:80 "
        "(httpd) no longer listening",
        data={"snapshot": "lab1-before-20261205T200000Z.json", "taken_utc": "2026-12-05T20:00:00Z", **data},
        title="compare with before",
        kind="since_before",
    )
    return replace(run, results=[*run.results, result])


def render(run: HostRun, lang: str) -> str:
    return render_host(run, seed_settings(lang), now=run.finished + 1)


def the_section(markdown: str, heading: str) -> str:
    start = markdown.index(f"## {heading}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end >= 0 else None]


DATA = {
    "findings": [{**f, "message": ""} for f in FINDINGS],
    "restored": ["started httpd"],
    "restores": [{"service": "httpd", "action": "started"}],
    "init": "sysv",
}


def test_the_section_in_english() -> None:
    md = the_section(render(with_compare(DATA), "en"), "Since before the maintenance")
    assert (
        "Compared with the snapshot lab1-before-20261205T200000Z.json taken 2026-12-06 05:00 JST "
        "(2026-12-05 20:00 UTC)." in md
    ), "the snapshot's time is in the operator's zone with UTC beside it, like the record's other times"
    assert tables(md)[0] == [
        ["level", "kind", "what", "before", "now"],
        ["**FAILED**", "service", "httpd", "running", "→ stopped"],
        ["**FAILED**", "socket", "tcp 0.0.0.0:80 (httpd)", "listening", "→ closed"],
        ["warning", "disk", "/srv", "40% used", "→ 55% used"],
        ["warning", "cron job", GONE_JOB, "scheduled", "→ gone"],
        ["info", "kernel", "kernel", "6.1.0-1", "→ 6.1.0-2"],
    ]
    assert "- Restored: started httpd" in md


def test_the_section_in_japanese() -> None:
    full = render(with_compare(DATA), "ja")
    md = the_section(full, "保守前からの変化")
    assert (
        "2026-12-06 05:00 JST (2026-12-05 20:00 UTC) に取得したスナップショット "
        "lab1-before-20261205T200000Z.json と比較しました。" in md
    )
    assert tables(md)[0] == [
        ["区分", "種類", "対象", "保守前", "対応後"],
        ["**異常**", "サービス", "httpd", "稼働中", "→ 停止"],
        ["**異常**", "ソケット", "tcp 0.0.0.0:80 (httpd)", "待ち受け中", "→ 閉じている"],
        ["警告", "ディスク", "/srv", "使用率 40%", "→ 使用率 55%"],
        ["警告", "cron ジョブ", GONE_JOB, "登録あり", "→ 存在しない"],
        ["情報", "カーネル", "カーネル", "6.1.0-1", "→ 6.1.0-2"],
    ]
    assert "- 復旧: httpd を起動しました" in md
    assert "保守前との比較" in full  # the step's title in the steps table
    assert [piece for piece in english_pieces() if piece in outside_code(md)] == []


def test_without_a_snapshot_and_a_dry_run_restore_in_japanese() -> None:
    data = {
        "snapshot": None,
        "taken_utc": None,
        "findings": [
            {**FINDINGS[0], "level": "warning", "before": "enabled", "now": "not running", "message": ""}
        ],
        "restores": [
            {"service": "httpd", "action": "would_start_enable"},
            {"service": "db", "action": "cannot"},
        ],
        "init": "openrc",
    }
    md = the_section(render(with_compare(data), "ja"), "保守前からの変化")
    assert "このホストのスナップショットはありません" in md
    assert ["警告", "サービス", "httpd", "自動起動あり", "→ 停止中"] in tables(md)[0]
    assert "- 復旧: 実行時には httpd を起動し、自動起動を有効にします" in md
    assert "- 復旧: db は復旧できません（init: openrc）" in md


def test_a_record_from_before_restores_were_kept_shows_the_english_words() -> None:
    data = {"findings": [], "restored": ["started httpd"]}
    md = the_section(render(with_compare(data), "ja"), "保守前からの変化")
    assert "比較した項目に変化はありません。" in md
    assert "- 復旧: started httpd" in md


def test_without_a_snapshot_and_nothing_found_it_says_what_was_checked() -> None:
    clean: dict[str, Any] = {
        "snapshot": None,
        "taken_utc": None,
        "findings": [],
        "restores": [],
        "init": "sysv",
    }
    md = the_section(render(with_compare(clean), "en"), "Since before the maintenance")
    assert "Every service enabled at boot is running, no unit has failed and every mount in fstab" in md
    assert "Nothing changed" not in md  # nothing could change: there was nothing to compare with
    ja = the_section(render(with_compare(clean), "ja"), "保守前からの変化")
    assert "起動時に有効なサービスはすべて動作中で" in ja
    compared = the_section(render(with_compare({"findings": []}), "en"), "Since before the maintenance")
    assert "Nothing changed that the comparison looks at." in compared


def test_what_restore_fixed_stays_in_the_record_as_found() -> None:
    """On a real Debian 12 VM, cron stopped and --restore started it: the record said "Nothing changed
    that the comparison looks at" beside "Restored: started cron", and Found did not name it."""
    stopped = {**FINDINGS[0], "subject": "cron", "message": "cron ran before and is stopped now"}
    data = {
        "findings": [],
        "found": [stopped],
        "restored": ["started cron"],
        "restores": [{"service": "cron", "action": "started"}],
        "init": "systemd",
    }
    run = with_compare(data)
    run = replace(run, results=[*run.results[:-1], replace(run.results[-1], outcome=Outcome.CHANGED)])
    full = render(run, "en")
    md = the_section(full, "Since before the maintenance")
    assert tables(md)[0][1] == ["**FAILED**", "service", "cron", "running", "→ stopped (fixed by --restore)"]
    assert "Nothing changed" not in md
    summary = full.split("## Steps")[0]
    assert (
        "- 1 problem appeared since the snapshot taken before the maintenance: see “Since before the "
        "maintenance”." in summary
    )
    assert "- Started cron again: it ran before the maintenance." in summary
    ja = render(run, "ja")
    assert "→ 停止（--restore で復旧）" in the_section(ja, "保守前からの変化")
    assert "保守前に動いていた cron を再び起動しました。" in ja.split("## 手順")[0]


def test_a_restore_is_done_also_when_compare_still_fails_on_the_rest() -> None:
    data = {
        "findings": [{**FINDINGS[1], "message": ""}],
        "found": [{**FINDINGS[0], "message": ""}, {**FINDINGS[1], "message": ""}],
        "restores": [{"service": "httpd", "action": "started"}],
        "init": "sysv",
    }
    full = render(with_compare(data), "en")
    summary = full.split("## Steps")[0]
    assert "- Started httpd again: it ran before the maintenance." in summary
    assert "- 2 problems appeared since the snapshot taken before the maintenance" in summary
    rows = tables(the_section(full, "Since before the maintenance"))[0]
    assert rows[1][-1] == "→ stopped (fixed by --restore)" and rows[2][-1] == "→ closed"
