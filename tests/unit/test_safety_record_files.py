"""Issue 12, item 11: journals and records never follow a planted symlink, never share a name,
and a line after a torn one is kept."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from record_seed import T0, seed_run, seed_settings

from runbook.record import Journal, RecordError, journal_path, load_journal, write_records
from runbook.results import FleetRun, HostRun


def test_a_planted_symlink_never_receives_the_journal(tmp_path: Path) -> None:
    target = tmp_path / "authorized_keys"
    target.write_text("ssh-ed25519 AAAA… admin\n")
    planted = journal_path(tmp_path, T0)
    planted.symlink_to(target)
    with pytest.raises(RecordError, match="already exists \\(or is a symlink\\)"):
        Journal(planted)
    with Journal.create(tmp_path, T0) as journal:
        journal.run_started(["web01"], seed_settings())
    assert target.read_text() == "ssh-ed25519 AAAA… admin\n"
    assert journal.path.name == planted.name.replace(".jsonl", "-2.jsonl")


def test_two_runs_in_the_same_second_get_their_own_journals_and_records(tmp_path: Path) -> None:
    first, second = Journal.create(tmp_path, T0), Journal.create(tmp_path, T0 + 0.5)
    with first, second:
        first.run_started(["web01"], seed_settings())
        second.run_started(["db01"], seed_settings())
    assert first.path != second.path
    assert [run.host for run in load_journal(first.path).runs] == ["web01"]
    assert [run.host for run in load_journal(second.path).runs] == ["db01"]
    one = write_records(seed_run(), seed_settings(), tmp_path)
    other = write_records(seed_run(), seed_settings(), tmp_path)
    assert len({*one, *other}) == 4 and all(path.stat().st_size > 0 for path in {*one, *other})


def test_two_fleets_in_the_same_second_keep_both_summaries(tmp_path: Path) -> None:
    fleet = FleetRun([seed_run(), HostRun("db01", started=T0, finished=T0 + 1, error="unreachable")])
    one = write_records(fleet, seed_settings(), tmp_path)
    two = write_records(fleet, seed_settings(), tmp_path)
    assert len(set(one) | set(two)) == 12 and one[-1] != two[-1]


def test_a_planted_symlink_never_receives_a_record(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    target.write_text("keep\n")
    run = seed_run()
    stem = write_records(run, seed_settings(), tmp_path / "probe")[1].stem
    (tmp_path / f"{stem}.json").symlink_to(target)
    written = write_records(run, seed_settings(), tmp_path)
    assert target.read_text() == "keep\n" and all(not path.is_symlink() for path in written)


def test_the_line_after_a_torn_one_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = Journal(tmp_path / "run.jsonl")
    journal.run_started(["web01", "db01"], seed_settings())
    real_write = os.write
    calls: list[int] = []

    def disk_full_halfway(fd: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", disk_full_halfway)
    with pytest.raises(OSError, match="No space"):
        journal.host_started(HostRun("web01", started=T0))
    monkeypatch.setattr(os, "write", real_write)
    journal.host_finished(HostRun("db01", started=T0, finished=T0 + 1, error="unreachable"))
    journal.host_finished(HostRun("web01", started=T0, finished=T0 + 2, error="gone"))
    journal.close()
    runs = {run.host: run for run in load_journal(journal.path).runs}
    assert runs["db01"].error == "unreachable" and runs["web01"].error == "gone"


def test_a_short_write_is_continued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))
    with Journal(tmp_path / "run.jsonl") as journal:
        journal.run_started(["web01"], seed_settings())
        journal.host_finished(HostRun("web01", started=T0, finished=T0 + 1, error="unreachable"))
    assert load_journal(journal.path).runs[0].error == "unreachable"
