"""Comparing a host with its snapshot (pure), the snapshot files, and the before_after settings."""

from __future__ import annotations

import json
import re
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from runbook.errors import SettingsError
from runbook.record.redact import Redactor
from runbook.snapshot.compare import (
    Finding,
    Level,
    command_findings,
    compare_states,
    merged,
    site_findings,
    standing_problems,
)
from runbook.snapshot.files import (
    Snapshot,
    SnapshotError,
    load_snapshot,
    newest_snapshot,
    write_snapshot,
)
from runbook.snapshot.model import FstabEntry, HostState, Mount, Output, Service, Socket
from runbook.snapshot.restore import restore_commands
from runbook.snapshot.settings import parse_before_after

GiB = 1 << 30
BEFORE = HostState(
    init="systemd",
    kernel="5.14.0-362",
    boot_id="aaaa",
    services={
        "nginx": Service("nginx", running=True, enabled=True),
        "cron": Service("cron", running=True, enabled=True),
        "old": Service("old", running=False, enabled=True),
    },
    sockets=(Socket("tcp", "0.0.0.0", 80, "nginx"), Socket("udp", "127.0.0.1", 51234, "dig")),
    mounts=(
        Mount("/", "/dev/vda1", "ext4", False, 100 * GiB, 40 * GiB),
        Mount("/srv", "/dev/vdb1", "xfs", False, 100 * GiB, 10 * GiB),
        Mount("/scratch", "tmpfs", "tmpfs", False, GiB, 0),
    ),
)


def kinds(found: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.kind, f.level.value, f.subject) for f in found}


def test_nothing_changed_is_no_finding() -> None:
    assert compare_states(BEFORE, BEFORE) == []


def test_each_kind_of_change() -> None:
    now = HostState(
        init="systemd",
        kernel="5.14.0-427",
        boot_id="bbbb",
        services={"nginx": Service("nginx", failed=True, enabled=True), "cron": Service("cron", True, False)},
        sockets=(),
        mounts=(
            Mount("/", "/dev/vda1", "ext4", False, 100 * GiB, 55 * GiB),
            Mount("/srv", "/dev/vdb1", "xfs", True, 100 * GiB, 10 * GiB),
        ),
    )
    assert kinds(compare_states(BEFORE, now)) == {
        ("service", "failure", "nginx"),
        ("service", "warning", "cron"),
        ("socket", "failure", "tcp 0.0.0.0:80 (nginx)"),
        ("mount", "failure", "/srv"),
        ("mount", "failure", "/scratch"),
        ("disk", "warning", "/"),
        ("boot", "info", "boot"),
        ("kernel", "info", "kernel"),
    }


def test_client_ports_are_not_compared() -> None:
    now = HostState(
        init="systemd", services=BEFORE.services, sockets=BEFORE.sockets[:1], mounts=BEFORE.mounts
    )
    assert compare_states(BEFORE, now) == []


def test_standing_problems_need_no_history() -> None:
    now = HostState(
        init="systemd",
        services={"db": Service("db", failed=True), "web": Service("web", running=False, enabled=True)},
        mounts=(Mount("/", "/dev/vda1", "ext4", False),),
        fstab=(FstabEntry("/", "/dev/vda1", "ext4"), FstabEntry("/data", "/dev/vdc", "ext4")),
    )
    assert kinds(standing_problems(now)) == {
        ("failed_unit", "failure", "db"),
        ("service", "failure", "web"),
        ("fstab", "failure", "/data"),
    }


def test_merged_keeps_one_finding_per_subject_failures_first() -> None:
    changes = compare_states(BEFORE, HostState(init="systemd", mounts=BEFORE.mounts, boot_id="cccc"))
    standing = standing_problems(HostState(init="systemd", services={"nginx": Service("nginx", failed=True)}))
    found = merged(changes, standing)
    assert [f.subject for f in found if f.subject == "nginx"] == ["nginx"]
    assert found[-1].level is Level.INFO


def test_site_and_command_changes() -> None:
    before: list[dict[str, Any]] = [{"url": "http://a/", "status": 200, "error": "", "text_found": None}]
    now: list[dict[str, Any]] = [
        {"url": "http://a/", "status": None, "error": "no answer", "text_found": None}
    ]
    assert kinds(site_findings(before, now)) == {("site", "failure", "http://a/")}
    changed = command_findings(
        {"repl": Output("lag 0", 0), "same": Output("x", 0)},
        {"repl": Output("lag 900", 1), "same": Output("x\n", 0)},
    )
    assert [(f.subject, f.before, f.now) for f in changed] == [("repl", "lag 0", "lag 900 (exit 1)")]


def test_restore_commands_quote_and_refuse_odd_names() -> None:
    assert restore_commands("sysv", "httpd", enable=True) == [
        "/sbin/service httpd start",
        "chkconfig httpd on",
    ]
    assert restore_commands("systemd", "nginx", enable=False) == ["systemctl start nginx.service"]
    assert restore_commands("systemd", "x; rm -rf /", enable=False) == []
    assert restore_commands("unknown", "nginx", enable=False) == []


def snapshot(host: str = "web1") -> Snapshot:
    return Snapshot(
        host=host,
        hostname=host,
        taken=1_800_000_000.0,
        state=HostState(init="sysv", outputs=(Output("user=repl password=hunter2 lag 0", 0),)),
        commands=("mysql -u repl --password=hunter2 -e 'show slave status'",),
    )


def test_written_0600_masked_and_read_back(tmp_path: Path) -> None:
    json_path, md_path = write_snapshot(tmp_path, snapshot().to_dict(), Redactor())
    assert json_path.name == "web1-before-20270115T080000Z.json"
    assert stat.S_IMODE(json_path.stat().st_mode) == 0o600 and md_path.is_file()
    text = json_path.read_text()
    assert "hunter2" not in text and "--password=***" in text and "password=***" in text
    loaded = load_snapshot(json_path, "web1")
    assert loaded.state.outputs[0].rc == 0
    assert newest_snapshot(tmp_path, "web1") == json_path
    assert newest_snapshot(tmp_path, "web2") is None


def test_a_second_snapshot_in_the_same_second_is_kept_beside_the_first(tmp_path: Path) -> None:
    first, _ = write_snapshot(tmp_path, snapshot().to_dict(), Redactor())
    changed = replace(snapshot(), commands=("uptime",)).to_dict()
    second, second_md = write_snapshot(tmp_path, changed, Redactor())
    assert second.name == "web1-before-20270115T080000Z-2.json" and second_md.is_file()
    assert json.loads(first.read_text())["commands"] != ["uptime"]
    assert json.loads(second.read_text())["commands"] == ["uptime"]
    assert newest_snapshot(tmp_path, "web1") == second


def test_the_newest_snapshot_is_the_latest_stamp_then_the_highest_number(tmp_path: Path) -> None:
    names = [
        "web1-before-20270115T080000Z.json",
        "web1-before-20270115T080000Z-2.json",
        "web1-before-20270115T080000Z-10.json",
        "web1-before-20270114T235959Z-99.json",
        "web1-before-x-before-20270116T000000Z.json",  # host web1-before-x's
        "web1-before-20270117T000000Z.json.tmp",
    ]
    for name in names:
        (tmp_path / name).write_text("{}")
    assert newest_snapshot(tmp_path, "web1") == tmp_path / "web1-before-20270115T080000Z-10.json"
    assert newest_snapshot(tmp_path, "web1-before-x") == tmp_path / names[4]


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("{torn", "is damaged (not JSON"),
        (
            '{"kind": "runbook-snapshot", "format": 3, "host": "web1"}',
            "has format 3, newer than this runbook reads",
        ),
        ('{"kind": "runbook-snapshot", "format": 1, "host": "db1"}', "is of host 'db1', not web1"),
        ('{"kind": "runbook-snapshot", "format": 1, "host": "web1"}', "is damaged (KeyError"),
        ("[]", "is not a runbook snapshot"),
    ],
)
def test_bad_snapshots_say_why_in_one_line(tmp_path: Path, content: str, said: str) -> None:
    path = tmp_path / "web1-before-20270101T000000Z.json"
    path.write_text(content)
    with pytest.raises(SnapshotError) as caught:
        load_snapshot(path, "web1")
    assert said in str(caught.value) and "\n" not in str(caught.value)


def test_settings_shapes_and_errors() -> None:
    parsed = parse_before_after({"commands": ["a", "b"], "restore": True, "disk_growth": "5"})
    assert (parsed.commands, parsed.restore, parsed.disk_growth) == (("a", "b"), True, 5.0)
    for bad, said in (
        ({"commandz": []}, "unknown before_after setting(s): commandz"),
        ({"commands": [""]}, "before_after.commands must be a list"),
        ({"restore": "yes"}, "before_after.restore must be true or false"),
        ("x", "before_after must be a mapping"),
    ):
        with pytest.raises(SettingsError, match=re.escape(said)):
            parse_before_after(bad)


def test_snapshot_json_has_its_format(tmp_path: Path) -> None:
    [json_path, _] = write_snapshot(tmp_path, snapshot().to_dict(), Redactor())
    data = json.loads(json_path.read_text())
    assert (data["kind"], data["format"], data["host"]) == ("runbook-snapshot", 2, "web1")
