"""--lang ja: the whole record in Japanese, from the gettext catalog that Babel compiles."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from record_checks import fences, headings, tables
from record_seed import seed_run, seed_settings

from runbook.record import render_fleet, render_host
from runbook.record.language import LOCALE_DIR, Language
from runbook.results import FleetRun

CATALOG = LOCALE_DIR / "ja" / "LC_MESSAGES" / "runbook.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def render(lang: str) -> str:
    run = seed_run()
    return render_host(run, seed_settings(lang), now=run.finished + 1)


def english_pieces() -> set[str]:
    """The English text of every message, cut at its placeholders: pieces of two words or more."""
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    pieces: set[str] = set()
    for message in catalog:
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        for text in ids:
            for raw in PLACEHOLDER.split(text):
                piece = raw.strip(" .,:;()")
                if len(piece.split()) >= 2:
                    pieces.add(piece)
    return pieces


def outside_code(markdown: str) -> str:
    """The record without fenced blocks and inline code (command output and command lines)."""
    for _, body in fences(markdown):
        markdown = markdown.replace(body, "")
    return re.sub(r"(`+).*?\1", "", markdown)


def test_japanese_record_has_no_english_message_outside_command_output() -> None:
    japanese = outside_code(render("ja"))
    english = outside_code(render("en"))
    pieces = english_pieces()
    assert len(pieces) > 80
    used = [piece for piece in pieces if piece in english]
    assert len(used) > 25  # the English record says them
    assert [piece for piece in pieces if piece in japanese] == []
    for run_message in (r.message for r in seed_run().results):
        assert run_message not in japanese  # step messages are English: the record builds its own


def test_japanese_record_reads_as_japanese() -> None:
    md = render("ja")
    assert md.startswith("# 保守記録 — lab1 — 復旧済み・残課題 2 件（変更 4 件）\n")
    assert headings(md)[1:5] == ["概要", "対応前 → 対応後", "手順", "未実行の cron ジョブ"]
    assert "- 時刻のずれ: 3時間0分0秒 遅れ（10,800.000 秒、±0.1 ms）。" in md
    assert "- ntpd の自動起動が無効でした。" in md
    steps = tables(md)[2]
    assert steps[0] == ["#", "手順", "結果", "所要時間", "内容"]
    assert [row[2] for row in steps[1:]].count("変更あり") == 4
    assert "バックアップの手順で再実行" in md
    # the same commands, output and numbers as the English record
    assert [body for _, body in fences(md)] == [
        body.replace(" s)", " 秒)") for _, body in fences(render("en"))
    ]


def test_fleet_summary_in_japanese() -> None:
    run = seed_run()
    fleet = FleetRun([run, run], started=run.started, finished=run.finished)
    md = render_fleet(fleet, seed_settings("ja"), {}, now=run.finished)
    assert md.startswith("# 保守記録 — 2 台 — 2 台中 2 台に残課題あり\n")
    assert tables(md)[1][0] == ["ホスト", "判定", "変更", "残課題", "記録"]


def test_durations_and_offsets_per_language() -> None:
    en, ja = Language("en"), Language("ja")
    assert en.offset(10812.402, 0.003) == "3 h 0 min 12 s behind (10,812.402 s, ±3.0 ms)"
    assert ja.offset(10812.402, 0.003) == "3時間0分12秒 遅れ（10,812.402 秒、±3.0 ms）"
    assert en.offset(-0.004, 0.0001) == "4.0 ms ahead (±0.1 ms)"
    assert en.offset(0.00005, 0.0001) == "in step (±0.1 ms)"
    assert [en.bound(b) for b in (0.00013993270325000868, 0.003, 0.0421, 1.2)] == [
        "±0.1 ms",
        "±3.0 ms",
        "±42 ms",
        "±1.200 s",
    ]
    assert ja.age(96562) == "1日2時間49分"


def test_a_duration_a_hair_under_a_whole_minute_rounds_up_into_it() -> None:
    en, ja = Language("en"), Language("ja")
    assert en.duration(10799.99998) == "3 h 0 min 0 s"  # the lab's 3 h lag, measured
    assert ja.duration(10799.99998) == "3時間0分0秒"
    assert en.duration(119.6) == "2 min 0 s"
    assert en.duration(-3599.5) == "1 h 0 min 0 s"
    assert en.duration(86399.7) == "1 d 0 h 0 min 0 s"
    assert en.duration(3725.4) == "1 h 2 min 5 s"


def test_committed_catalog_is_the_compiled_po(tmp_path: Path) -> None:
    """The .mo ships in the package (setuptools has no compile step): it must be the .po compiled."""
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    compiled = tmp_path / "runbook.mo"
    with compiled.open("wb") as handle:
        write_mo(handle, catalog)
    assert compiled.read_bytes() == CATALOG.with_suffix(".mo").read_bytes(), (
        "runbook.mo is stale: .venv/bin/pybabel compile -d runbook/locale -D runbook"
    )


def test_every_message_in_the_code_has_a_japanese_translation() -> None:
    """Extract as docs/templates.md says (babel.cfg); a new message without a translation fails here."""
    root = Path(__file__).resolve().parents[2]
    method_map = [("**.py", "python"), ("**.j2", "jinja2")]
    options = {"**.j2": {"extensions": "jinja2.ext.i18n"}}
    keywords = {**DEFAULT_KEYWORDS, "n": (1, 2), "N_": None}
    found = {
        message if isinstance(message, str) else message[0]
        for folder in ("runbook/record", "runbook/templates")
        for _, _, message, _, _ in extract_from_dir(
            root / folder, method_map, options_map=options, keywords=keywords
        )
    }
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (m.string if isinstance(m.string, str) else all(m.string or ()))
    }
    assert len(found) > 150
    assert sorted(found - translated) == []
