"""Host selection: names, hosts files, ssh_config patterns and groups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.errors import HostSelectionError
from runbook.hosts import failed_hosts, read_hosts_file, read_inventory, select_hosts
from runbook.record import Journal
from runbook.results import HostRun, Outcome, StepResult
from runbook.settings import Settings

CONFIG = """\
# runbook-group web: web01 web02
# runbook-group all-labs: lab*
# runbook-group nested: @web db1
# runbook-group empty:
# runbook-group loop: @loop
Host lab1
    HostName 10.0.0.11
Host lab2 lab10
    HostName 10.0.0.12
Host web01 web02 !web03
    User admin
Host db1
Host *.example.com db?
    User ops
Match host lab3
    User root
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "ssh_config"
    path.write_text(CONFIG)
    return path


def test_plain_names_pass_through_in_order_each_once(config: Path) -> None:
    assert select_hosts(["b", "a", "b", "c"], ssh_config=config) == ["b", "a", "c"]


def test_plain_names_need_no_ssh_config(tmp_path: Path) -> None:
    assert select_hosts(["web01"], ssh_config=tmp_path / "missing") == ["web01"]


def test_inventory_lists_concrete_names_only(config: Path) -> None:
    inventory = read_inventory(config)
    assert inventory.names == ["lab1", "lab2", "lab10", "web01", "web02", "db1"]
    assert inventory.groups["web"] == ["web01", "web02"]


def test_pattern_expands_in_file_order(config: Path) -> None:
    assert select_hosts(["lab*"], ssh_config=config) == ["lab1", "lab2", "lab10"]
    assert select_hosts(["lab?"], ssh_config=config) == ["lab1", "lab2"]
    assert select_hosts(["web0[2]", "lab1*"], ssh_config=config) == ["web02", "lab1", "lab10"]


def test_groups_expand_members_patterns_and_nested_groups(config: Path) -> None:
    assert select_hosts(["@web"], ssh_config=config) == ["web01", "web02"]
    assert select_hosts(["@all-labs"], ssh_config=config) == ["lab1", "lab2", "lab10"]
    assert select_hosts(["db1", "@nested"], ssh_config=config) == ["db1", "web01", "web02"]


def test_pattern_matching_nothing_is_an_error(config: Path) -> None:
    with pytest.raises(HostSelectionError, match=r"'mail\*' matches no Host entry in ssh config"):
        select_hosts(["lab1", "mail*"], ssh_config=config)


def test_unknown_empty_and_looping_groups_are_errors(config: Path) -> None:
    with pytest.raises(HostSelectionError, match=r"unknown host group @db .*known: @web, @all-labs"):
        select_hosts(["@db"], ssh_config=config)
    with pytest.raises(HostSelectionError, match="no members"):
        select_hosts(["@empty"], ssh_config=config)
    with pytest.raises(HostSelectionError, match="includes itself"):
        select_hosts(["@loop"], ssh_config=config)


def test_pattern_with_a_missing_ssh_config_says_so(tmp_path: Path) -> None:
    with pytest.raises(HostSelectionError, match=r"ssh config .*missing does not exist"):
        select_hosts(["lab*"], ssh_config=tmp_path / "missing")


def test_hosts_file_comments_blanks_and_entries(config: Path, tmp_path: Path) -> None:
    listing = tmp_path / "hosts.txt"
    listing.write_text("# night shift\nweb01\n\n  lab*   # every lab host\n@web\nextra.example.net\n")
    assert read_hosts_file(listing) == ["web01", "lab*", "@web", "extra.example.net"]
    got = select_hosts(["db1"], hosts_files=[listing], ssh_config=config)
    assert got == ["db1", "web01", "lab1", "lab2", "lab10", "web02", "extra.example.net"]


def test_missing_hosts_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(HostSelectionError, match=r"hosts file .*nope.txt does not exist: check --hosts-file"):
        select_hosts([], hosts_files=[tmp_path / "nope.txt"])


def test_nothing_selected_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("# nobody\n")
    with pytest.raises(HostSelectionError, match="no host given"):
        select_hosts([], hosts_files=[empty])


def test_include_is_followed(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "a.conf").write_text("Host app1 app2\n")
    main = tmp_path / "ssh_config"
    main.write_text(f"Include {tmp_path}/conf.d/*.conf\nHost app3\n")
    assert select_hosts(["app*"], ssh_config=main) == ["app1", "app2", "app3"]


def test_failed_hosts_from_a_fleet_record(tmp_path: Path) -> None:
    record = tmp_path / "fleet-20260101T000000Z.json"
    record.write_text(
        json.dumps(
            {
                "hosts": [
                    {"host": "a", "outcome": "ok"},
                    {"host": "b", "outcome": "failed"},
                    {"host": "c", "outcome": "changed"},
                    {"host": "d", "outcome": "failed"},
                ]
            }
        )
    )
    assert failed_hosts(record) == ["b", "d"]


def test_failed_hosts_from_a_journal_include_unfinished_hosts(tmp_path: Path) -> None:
    journal = tmp_path / "run-20260101T000000Z.jsonl"
    with Journal(journal) as writer:
        writer.run_started(["a", "b", "c"], Settings())
        for host, error in (("a", None), ("b", "b is unreachable: timed out")):
            run = HostRun(host=host, error=error)
            writer.host_started(run)
            run.results.append(StepResult("check_date", Outcome.OK, "fine"))
            writer.step_finished(run, run.results[-1])
            writer.host_finished(run)
    assert failed_hosts(journal) == ["b", "c"]


def test_failed_hosts_refuses_what_is_not_a_record(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"format": 1}')
    with pytest.raises(HostSelectionError, match="is not a runbook record"):
        failed_hosts(other)
    with pytest.raises(HostSelectionError, match="does not exist"):
        failed_hosts(tmp_path / "gone.json")
