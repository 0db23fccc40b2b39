"""Issue 12, item 2: host names that would reach a shell through the ssh_config are refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.connect import connect
from runbook.errors import HostUnavailable
from runbook.hosts import HostSelectionError, failed_hosts, select_hosts

ROOT = Path(__file__).resolve().parents[2]


def hostile(marker: Path) -> str:
    return f"web01;echo${{IFS}}x>>{marker}"


def test_match_exec_never_sees_a_hostile_name(tmp_path: Path) -> None:
    marker = tmp_path / "f"
    config = tmp_path / "ssh_config"
    config.write_text('Match exec "test %h = bastion"\n    User nobody\n')
    with pytest.raises(HostUnavailable, match="has characters other than"):
        connect(hostile(marker), ssh_config=str(config), ntp_servers=["ntp.test"])
    assert not marker.exists()


@pytest.mark.parametrize("name", ["a b", "a;b", "$(id)", "a`id`", "a'b", "a\nb", "-oProxyCommand=id", "a|b"])
def test_bad_names_from_flags_and_hosts_files_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(HostSelectionError, match=r"host name .* \(--host\) has characters other than"):
        select_hosts(["web01", name], ssh_config=tmp_path / "none")
    listed = tmp_path / "hosts"
    listed.write_text(f"web01\n{name.replace(chr(10), '')}  # a comment\n")
    if " " not in name and "\n" not in name:
        with pytest.raises(HostSelectionError, match=rf"\(hosts file {listed}\)"):
            select_hosts([], hosts_files=[listed], ssh_config=tmp_path / "none")


def test_good_names_pass(tmp_path: Path) -> None:
    names = ["web01", "10.0.0.5", "root@web01", "web01.example.com:2222", "fe80::1", "db_1"]
    assert select_hosts(names, ssh_config=tmp_path / "none") == names


def test_bad_names_from_groups_and_host_lines_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("# runbook-group web: web01 web$(id)\nHost lab1 lab;id\n")
    with pytest.raises(HostSelectionError, match=r"'web\$\(id\)' \(host group @web in ssh config"):
        select_hosts(["@web"], ssh_config=config)
    with pytest.raises(HostSelectionError, match=r"'lab;id' \(Host line in ssh config"):
        select_hosts(["lab*"], ssh_config=config)


def test_bad_names_from_an_earlier_record_are_refused(tmp_path: Path) -> None:
    record = tmp_path / "fleet.json"
    record.write_text(json.dumps({"hosts": [{"host": "a;touch x", "outcome": "failed"}]}))
    with pytest.raises(HostSelectionError, match=rf"'a;touch x' \(record {record}\)"):
        failed_hosts(record)


def test_cli_refuses_a_bad_host_with_exit_2(tmp_path: Path) -> None:
    marker = tmp_path / "f"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "invoke",
            "-r",
            str(ROOT),
            "post-maint",
            "--host",
            hostile(marker),
            "--record-dir",
            str(tmp_path / "r"),
            "--ntp-server",
            "ntp.test",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"runbook: host name '{hostile(marker)}' (--host) has characters other than" in done.stderr
    assert not (tmp_path / "r").exists() and not marker.exists()
