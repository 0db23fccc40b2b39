"""The journal: events as they happen, rebuilt into runs after a crash, shared by threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sample_run import T0, seed_run, seed_settings

from runbook.errors import RecordError
from runbook.record import Journal, journal_settings, load_journal, render_host, write_records
from runbook.results import HostRun, Outcome, StepResult
from runbook.settings import RecordSettings, Settings


def replay(journal: Journal, run: HostRun, *, finish: bool = True, steps: int | None = None) -> None:
    """Feed ``run`` to the journal the way the engine does."""
    journal.host_started(HostRun(run.host, started=run.started, facts=dict(run.facts)))
    for result in run.results[:steps]:
        journal.step_finished(run, result)
    if finish:
        journal.host_finished(run)


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    run = seed_run()
    with Journal(path) as journal:
        journal.run_started([run.host], seed_settings())
        replay(journal, run)
    fleet = load_journal(path)
    assert [r.to_dict() for r in fleet.runs] == [run.to_dict()]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["event"] for line in lines] == [
        "run_started",
        "host_started",
        *["step_finished"] * 7,
        "host_finished",
    ]
    assert all(json.loads(line)["v"] == 1 for line in lines)


def test_unfinished_hosts_come_back_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    run = seed_run()
    with Journal(path) as journal:
        journal.run_started([run.host, "db01"], seed_settings())
        replay(journal, run, finish=False, steps=3)
    fleet = load_journal(path)
    web, db = fleet.runs
    assert web.interrupted and [r.step for r in web.results] == [
        "check_date",
        "restart_daemon",
        "one_shot_sync",
    ]
    assert web.facts["hostname"] == "web01.example.jp" and web.started == T0
    assert db.interrupted and db.results == []
    assert fleet.finished == 0.0
    md = render_host(web, journal_settings(path, Settings()), now=T0 + 60)
    assert "— INTERRUPTED (after 3 steps; 2 changes made)" in md
    assert "by ops@monitor01" in md and "JST" in md


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    run = seed_run()
    with Journal(path) as journal:
        replay(journal, run, finish=False, steps=2)
    with path.open("ab") as handle:
        handle.write(b'{"v": 1, "event": "step_finished", "host": "web01.example.jp", "result": {"st')
    fleet = load_journal(path)
    assert len(fleet.runs[0].results) == 2
    assert fleet.runs[0].interrupted


def test_a_bad_line_in_the_middle_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text('{"v": 1, "event": "host_started", "host": "a"}\ngarbage\n{"v": 1, "event": "x"}\n')
    with pytest.raises(RecordError, match="line 2"):
        load_journal(path)


def test_missing_journal_is_a_record_error(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="cannot read journal"):
        load_journal(tmp_path / "nope.jsonl")


def test_concurrent_writers_never_mix_lines(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    hosts = [f"lab{n}" for n in range(8)]
    big = "x" * 20_000  # longer than a pipe buffer: a torn interleaving would show

    def work(journal: Journal, host: str) -> None:
        run = HostRun(host, started=T0)
        journal.host_started(run)
        for n in range(25):
            result = StepResult(f"s{n}", Outcome.OK, big, started=T0 + n)
            run.results.append(result)
            journal.step_finished(run, result)
        run.finished = T0 + 30
        journal.host_finished(run)

    with Journal(path) as journal:
        journal.run_started(hosts, seed_settings())
        threads = [threading.Thread(target=work, args=(journal, h)) for h in hosts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    fleet = load_journal(path)
    assert [r.host for r in fleet.runs] == hosts
    assert all(len(r.results) == 25 and not r.interrupted for r in fleet.runs)
    assert all([s.step for s in r.results] == [f"s{n}" for n in range(25)] for r in fleet.runs)


def test_every_line_is_fsynced_before_its_write_returns_and_writers_share_fsyncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = threading.Lock()
    lines = 0
    synced_upto: list[int] = []  # lines written when each fsync began
    mine = threading.local()
    real_write, real_fsync = os.write, os.fsync

    def write(fd: int, data: bytes) -> int:
        nonlocal lines
        with lock:
            lines += 1
            mine.line = lines
        return real_write(fd, data)

    def fsync(fd: int) -> None:
        with lock:
            synced_upto.append(lines)
        time.sleep(0.002)  # a disk that takes its time
        real_fsync(fd)

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "fsync", fsync)
    late: list[int] = []

    def work(journal: Journal, host: str) -> None:
        run = HostRun(host, started=T0)
        for n in range(20):
            result = StepResult(f"s{n}", Outcome.OK, "ok", started=T0 + n)
            journal.step_finished(run, result)
            with lock:
                if max(synced_upto, default=0) < mine.line:
                    late.append(mine.line)

    with Journal(tmp_path / "run.jsonl") as journal:
        threads = [threading.Thread(target=work, args=(journal, f"h{n}")) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert lines == 160 and late == []
    assert len(synced_upto) < lines  # concurrent writers shared fsyncs
    assert len(load_journal(tmp_path / "run.jsonl").runs) == 8


def test_journal_settings_restore_the_runs_header(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with Journal(path) as journal:
        journal.run_started(["web01"], replace(seed_settings(), dry_run=True))
    restored = journal_settings(path, Settings(records=RecordSettings(operator="someone@else", dir="out")))
    assert restored.records.operator == "ops@monitor01"
    assert restored.records.timezone == "Asia/Tokyo"
    assert restored.dry_run is True
    assert restored.window == seed_settings().window
    assert restored.records.dir == "out"


def test_closed_journal_refuses_writes(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "run.jsonl")
    journal.close()
    with pytest.raises(RecordError, match="closed"):
        journal.host_started(HostRun("x"))


def test_records_rendered_from_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "run-20170822T001203Z.jsonl"
    run = seed_run()
    with Journal(path) as journal:
        journal.run_started([run.host], seed_settings())
        replay(journal, run, finish=False, steps=5)
    paths = write_records(
        load_journal(path), journal_settings(path, Settings()), tmp_path, journal=path, now=T0
    )
    md = paths[0].read_text(encoding="utf-8")
    assert paths[0].name == "web01.example.jp-20170822T001203Z.md"
    assert "INTERRUPTED (after 5 steps; 2 changes made)" in md and "journal: run-20170822T001203Z.jsonl" in md


def test_a_journal_rendered_again_in_japanese(tmp_path: Path) -> None:
    """``post-maint.render JOURNAL --lang ja``: the same run's records for a Japanese reader."""
    path = tmp_path / "run-20170822T001203Z.jsonl"
    run = seed_run()
    with Journal(path) as journal:
        journal.run_started([run.host], seed_settings())
        replay(journal, run)
    command = [sys.executable, "-c", "from runbook.cli import main; main()", "post-maint.render", str(path)]
    done = subprocess.run(
        [*command, "--record-dir", str(tmp_path / "ja"), "--lang", "ja"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (markdown,) = (tmp_path / "ja").glob("*.md")
    title = markdown.read_text(encoding="utf-8").splitlines()[0]
    assert title == "# 保守記録 — web01.example.jp — 復旧済み（変更 3 件）"
