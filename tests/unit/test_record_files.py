"""Writing records: file names, atomic replacement, hostile host names, user templates."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from sample_run import T0, seed_run, seed_settings

from runbook.errors import RecordError
from runbook.record import (
    RecordWriter,
    check_templates,
    files,
    model,
    render_host,
    safe_name,
    write_atomic,
    write_records,
)
from runbook.results import FleetRun, HostRun
from runbook.settings import with_overrides


def test_host_records_are_named_by_host_and_start(tmp_path: Path) -> None:
    journal = tmp_path / "run-20170822T001203Z.jsonl"
    paths = write_records(seed_run(), seed_settings(), tmp_path, journal=journal, now=T0 + 60)
    assert [p.name for p in paths] == [
        "web01.example.jp-20170822T001203Z.md",
        "web01.example.jp-20170822T001203Z.json",
    ]
    md = paths[0].read_text(encoding="utf-8")
    assert (
        "Machine-readable copy: web01.example.jp-20170822T001203Z.json · journal: run-20170822T001203Z.jsonl"
        in md
    )
    assert json.loads(paths[1].read_text(encoding="utf-8"))["label"] == "FIXED (3 changes)"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_record_dir_defaults_to_settings(tmp_path: Path) -> None:
    settings = with_overrides(seed_settings(), {"record_dir": str(tmp_path / "records" / "nested")})
    paths = write_records(seed_run(), settings)
    assert all(p.parent == tmp_path / "records" / "nested" for p in paths)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("../../etc/x", "_.._etc_x"),
        ("/etc/passwd", "_etc_passwd"),
        ("..", "host"),
        ("", "host"),
        (".hidden", "hidden"),
        ("a\nb;rm -rf $(x)", "a_b_rm_-rf_x_"),
        ("web01.example.jp", "web01.example.jp"),
    ],
)
def test_safe_names(host: str, expected: str) -> None:
    assert safe_name(host) == expected


def test_hostile_host_names_stay_in_the_record_dir(tmp_path: Path) -> None:
    record_dir = tmp_path / "records"
    hosts = ["../../etc/x", "/etc/passwd", "..", "a/b", "a_b", "x" * 500, "c:\\windows"]
    fleet = FleetRun([HostRun(h, started=T0, finished=T0 + 1) for h in hosts], started=T0, finished=T0 + 2)
    paths = write_records(fleet, seed_settings(), record_dir, now=T0)
    assert len(paths) == 2 * len(hosts) + 2
    assert len(set(paths)) == len(paths)  # "a/b" and "a_b" get different files
    for path in paths:
        assert path.resolve().parent == record_dir.resolve()
        assert not path.name.startswith(".") and len(path.name) < 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records"]


def test_fleet_summary_links_host_records(tmp_path: Path) -> None:
    other = HostRun("db01", started=T0 + 1, finished=T0 + 3, error="unreachable")
    fleet = FleetRun([seed_run(), other], started=T0, finished=T0 + 60)
    paths = write_records(fleet, seed_settings(), tmp_path, now=T0 + 60)
    names = [p.name for p in paths]
    assert names[-2:] == ["fleet-20170822T001203Z.md", "fleet-20170822T001203Z.json"]
    summary = paths[-2].read_text(encoding="utf-8")
    assert "[db01-20170822T001204Z.md](db01-20170822T001204Z.md)" in summary
    assert "[web01.example.jp-20170822T001203Z.md](web01.example.jp-20170822T001203Z.md)" in summary


def test_every_file_is_fsynced_before_its_rename_and_the_folder_after_the_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_replace, real_link = os.fsync, os.replace, os.link

    def fsync(fd: int) -> None:
        events.append("folder" if os.path.isdir(f"/proc/self/fd/{fd}") else "file")
        real_fsync(fd)

    def rename(src: str, dst: str) -> None:
        events.append("rename")
        real_replace(src, dst)

    def link(src: str, dst: str, *, follow_symlinks: bool) -> None:
        events.append("link")
        real_link(src, dst, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", rename)
    monkeypatch.setattr(os, "link", link)
    other = HostRun("db01", started=T0 + 1, finished=T0 + 3, error="unreachable")
    paths = write_records(FleetRun([seed_run(), other], started=T0), seed_settings(), tmp_path, now=T0 + 60)
    assert len(paths) == 6
    # each JSON is linked in as a new name, each Markdown renamed over; one folder fsync for the run
    assert events == ["file", "link", "file", "rename"] * 3 + ["folder"]
    events.clear()
    write_atomic(tmp_path / "alone.md", "x")
    assert events == ["file", "rename", "folder"]


def test_a_failed_write_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.md"
    target.write_text("old record\n", encoding="utf-8")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, "new record " * 10_000)
    assert target.read_text(encoding="utf-8") == "old record\n"
    assert [p.name for p in tmp_path.iterdir()] == ["r.md"]


def test_an_interrupted_write_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.md"
    target.write_text("old record\n", encoding="utf-8")

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old record\n"
    assert [p.name for p in tmp_path.iterdir()] == ["r.md"]


def test_write_atomic_replaces(tmp_path: Path) -> None:
    target = tmp_path / "r.md"
    target.write_text("old", encoding="utf-8")
    write_atomic(target, "new ✓\n")
    assert target.read_text(encoding="utf-8") == "new ✓\n"


def test_user_template_overrides_by_file_name(tmp_path: Path) -> None:
    (tmp_path / "host.md.j2").write_text(
        '{% import "macros.md.j2" as m %}CUSTOM {{ record.label }} for {{ run.host | text }}\n'
        "{{ m.header_table(record.header) }}{% for s in record.steps %}{{ s.title }};{% endfor %}\n",
        encoding="utf-8",
    )
    check_templates(tmp_path)
    md = render_host(seed_run(), seed_settings(), template_dir=tmp_path, now=T0)
    assert md.startswith("CUSTOM FIXED (3 changes) for web01.example.jp\n| | |\n")
    assert "check date;restart time daemon;" in md


def test_broken_user_template_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "host.md.j2").write_text(
        "# {{ record.title }}\n{% for s in record.steps %}\n", encoding="utf-8"
    )
    with pytest.raises(RecordError, match=r"host\.md\.j2, line \d+: Unexpected end of template"):
        check_templates(tmp_path)


def test_user_template_with_unknown_variable_fails_the_check(tmp_path: Path) -> None:
    (tmp_path / "fleet.md.j2").write_text("# {{ record.titel }}\n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"fleet\.md\.j2, line 1 \(from .*\) failed: UndefinedError"):
        check_templates(tmp_path)


def test_user_template_with_unknown_filter_fails_the_check(tmp_path: Path) -> None:
    (tmp_path / "macros.md.j2").write_text("{% macro header_table(rows) %}{{ rows | nope }}{% endmacro %}\n")
    with pytest.raises(RecordError, match=r"macros\.md\.j2, line 1: No filter named 'nope'"):
        check_templates(tmp_path)


def test_missing_template_folder(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="does not exist"):
        check_templates(tmp_path / "nope")


def test_builtin_templates_pass_the_check() -> None:
    check_templates(None)


def test_template_failure_still_writes_the_json(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "host.md.j2").write_text("{{ record.nope }}", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(RecordError, match=r"host\.md\.j2"):
        write_records(seed_run(), seed_settings(), out, template_dir=templates, now=T0)
    assert [p.name for p in out.iterdir()] == ["web01.example.jp-20170822T001203Z.json"]


def test_package_templates_are_the_top_level_ones() -> None:
    import runbook

    shipped = Path(runbook.__file__).parent / "templates"
    source = Path(__file__).resolve().parents[2] / "templates"
    assert shipped.resolve() == source.resolve()
    assert {p.name for p in source.glob("*.j2")} == {
        "host.md.j2",
        "fleet.md.j2",
        "macros.md.j2",
        "before_after.md.j2",
    }


def test_the_writer_writes_each_host_when_it_finishes_and_the_summary_at_the_end(tmp_path: Path) -> None:
    writer = RecordWriter(seed_settings(), tmp_path, now=T0 + 60)
    web, db = seed_run(), HostRun("db01", started=T0 + 1, finished=T0 + 3, error="unreachable")
    writer.host_finished(web)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "web01.example.jp-20170822T001203Z.json",
        "web01.example.jp-20170822T001203Z.md",
    ]
    paths = writer.finish(FleetRun([web, db], started=T0, finished=T0 + 60))
    assert [p.name for p in paths] == [
        "web01.example.jp-20170822T001203Z.md",
        "web01.example.jp-20170822T001203Z.json",
        "db01-20170822T001204Z.md",
        "db01-20170822T001204Z.json",
        "fleet-20170822T001203Z.md",
        "fleet-20170822T001203Z.json",
    ]
    assert len(list(tmp_path.iterdir())) == 6
    assert "[db01-20170822T001204Z.md](db01-20170822T001204Z.md)" in paths[-2].read_text(encoding="utf-8")


def test_the_fleet_summary_reuses_each_host_record_the_writer_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    real = model.host_record

    def counted(run: HostRun, *args: Any, **kwargs: Any) -> model.HostRecord:
        made.append(run.host)
        return real(run, *args, **kwargs)

    monkeypatch.setattr(model, "host_record", counted)
    monkeypatch.setattr(files, "host_record", counted)
    writer = RecordWriter(seed_settings(), tmp_path, now=T0 + 60)
    web, db = seed_run(), HostRun("db01", started=T0 + 1, finished=T0 + 3, error="unreachable")
    for run in (web, db):
        writer.host_finished(run)
    paths = writer.finish(FleetRun([web, db], started=T0, finished=T0 + 60))
    assert sorted(made) == ["db01", "web01.example.jp"]
    summary = json.loads(paths[-1].read_text(encoding="utf-8"))
    assert [line["label"] for line in summary["hosts"]] == [
        json.loads(path.read_text(encoding="utf-8"))["label"] for path in (paths[1], paths[3])
    ]


def test_the_writer_writes_again_at_the_end_what_failed_on_the_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = RecordWriter(seed_settings(), tmp_path, now=T0)
    run = seed_run()
    real = files.write_atomic

    def full(path: Path, text: str, *, sync_folder: bool = True, new: bool = False) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "write_atomic", full)
    writer.host_finished(run)
    assert list(tmp_path.iterdir()) == []  # no empty file holds the name: the finished JSON claims it
    monkeypatch.setattr(files, "write_atomic", real)
    paths = writer.finish(FleetRun([run]))
    assert [p.suffix for p in paths] == [".md", ".json"] and all(p.exists() for p in paths)
    assert len(list(tmp_path.iterdir())) == 2 and "-2." not in paths[0].name


def test_a_template_failure_on_the_way_is_raised_at_the_end_after_the_other_hosts(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "host.md.j2").write_text("{% if run.host == 'db01' %}{{ record.nope }}{% endif %}ok\n")
    out = tmp_path / "out"
    writer = RecordWriter(seed_settings(), out, template_dir=templates, now=T0)
    web, db = seed_run(), HostRun("db01", started=T0 + 1, finished=T0 + 3, error="unreachable")
    writer.host_finished(db)
    writer.host_finished(web)
    with pytest.raises(RecordError, match=r"host\.md\.j2"):
        writer.finish(FleetRun([web, db], started=T0))
    assert sorted(p.name for p in out.iterdir()) == [
        "db01-20170822T001204Z.json",
        "web01.example.jp-20170822T001203Z.json",
        "web01.example.jp-20170822T001203Z.md",
    ]


def test_a_run_stopped_while_its_record_is_made_leaves_no_empty_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name used to be claimed by an empty ``STEM.json`` before the record was made."""

    def stopped(*args: object, **kwargs: object) -> dict[str, object]:
        raise KeyboardInterrupt

    monkeypatch.setattr(files, "host_json", stopped)
    with pytest.raises(KeyboardInterrupt):
        RecordWriter(seed_settings(), tmp_path, now=T0).host_finished(seed_run())
    assert list(tmp_path.iterdir()) == []


def test_a_name_another_run_takes_while_the_record_is_made_goes_to_that_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = files._write_host_files
    theirs = tmp_path / "web01.example.jp-20170822T001203Z.json"

    def raced(*args: Any, **kwargs: Any) -> Any:
        if not theirs.exists():
            theirs.write_text('{"theirs": true}\n', encoding="utf-8")
        return real(*args, **kwargs)

    monkeypatch.setattr(files, "_write_host_files", raced)
    paths = write_records(seed_run(), seed_settings(), tmp_path, now=T0)
    assert [p.name for p in paths] == [
        "web01.example.jp-20170822T001203Z-2.md",
        "web01.example.jp-20170822T001203Z-2.json",
    ]
    assert theirs.read_text(encoding="utf-8") == '{"theirs": true}\n'
