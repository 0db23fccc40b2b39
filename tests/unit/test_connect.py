"""Host keys checked as OpenSSH checks them, known_hosts and ssh_config parsed once per file."""

from __future__ import annotations

import importlib
from pathlib import Path

import paramiko
import pytest
from fabric import Connection
from paramiko.hostkeys import HostKeys

from runbook import knownhosts
from runbook.connect import connection_for
from runbook.knownhosts import Verdict
from runbook.settings import Settings, SshSettings

connect_module = importlib.import_module("runbook.connect")  # ``runbook.connect`` is also a function


def _key() -> paramiko.PKey:
    return paramiko.ECDSAKey.generate(bits=256)


def _line(names: str, key: paramiko.PKey) -> str:
    return f"{names} {key.get_name()} {key.get_base64()}\n"


def _hashed(name: str, key: paramiko.PKey) -> str:
    return _line(HostKeys.hash_host(name), key)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(connect_module, "_USER_KNOWN_HOSTS", (str(tmp_path / "user_known_hosts"),))
    monkeypatch.setattr(connect_module, "_GLOBAL_KNOWN_HOSTS", (str(tmp_path / "global_known_hosts"),))
    return tmp_path


def _connection(home: Path, port: int = 22) -> Connection:
    config = home / "ssh_config"
    config.write_text(
        "Host web1\n"
        "    HostName 192.0.2.10\n"
        f"    Port {port}\n"
        f"    UserKnownHostsFile {home / 'first'} {home / 'second'}\n"
        "Host *\n"
        "    User root\n"
    )
    return connection_for("web1", Settings(ssh=SshSettings(config=str(config))))


def _verdict(c: Connection, key: paramiko.PKey) -> Verdict:
    name = connect_module._host_key_name(c)
    return knownhosts.check(connect_module._known_hosts_for(c), name, key.get_name(), key.get_base64())[0]


@pytest.mark.parametrize("port", [22, 2222])
def test_a_key_passes_when_any_entry_for_the_host_has_it(home: Path, port: int) -> None:
    c = _connection(home, port)
    name = "192.0.2.10" if port == 22 else "[192.0.2.10]:2222"
    wild = name.replace(".10", ".*")
    mine, other = _key(), _key()
    files = [home / "first", home / "second", home / "global_known_hosts"]
    cases = [
        (("", "", ""), Verdict.UNKNOWN),
        ((_line(f"web9,{name}", mine), "", ""), Verdict.KNOWN),
        ((_hashed(name, other), _line(name, mine), ""), Verdict.KNOWN),  # any entry, not the first
        ((_line("other", other), "", _hashed(name, mine)), Verdict.KNOWN),  # global file
        ((_line(name, other), "", ""), Verdict.CHANGED),
        ((_line(wild, other), "", ""), Verdict.CHANGED),  # wildcard
        ((_line(f"{wild},!{name}", other), "", ""), Verdict.UNKNOWN),  # negated
        (
            (f"@revoked * {mine.get_name()} {mine.get_base64()}\n" + _line(name, mine), "", ""),
            Verdict.REVOKED,
        ),
    ]
    for texts, verdict in cases:
        for path, text in zip(files, texts, strict=True):
            path.unlink(missing_ok=True)
            if text:
                path.write_text(text)
        assert _verdict(c, mine) is verdict, texts


def test_the_user_known_hosts_is_not_read_when_the_config_names_other_files(home: Path) -> None:
    c = _connection(home)
    right, stale = _key(), _key()
    (home / "user_known_hosts").write_text(_line("192.0.2.10", stale))
    (home / "first").write_text(_line("192.0.2.10", right))
    assert _verdict(c, right) is Verdict.KNOWN
    assert [str(p) for p in connect_module._known_hosts_files(c)] == [
        str(home / "first"),
        str(home / "second"),
    ]


def test_known_hosts_is_read_again_once_it_changes(home: Path) -> None:
    c = _connection(home)
    first = home / "first"
    first.write_text(_line("other", _key()))
    added = _key()
    assert _verdict(c, added) is Verdict.UNKNOWN
    with first.open("a") as handle:  # as --accept-new-host-keys appends
        handle.write(_line("192.0.2.10", added))
    assert _verdict(c, added) is Verdict.KNOWN


def test_parsed_once_per_file(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = _connection(home)
    key = _key()
    (home / "first").write_text(_line("192.0.2.10", key))
    parses: list[str] = []
    real = knownhosts.parse_known_hosts

    def parse(text: str, source: str) -> knownhosts.KnownHostsFile:
        parses.append(source)
        return real(text, source)

    monkeypatch.setattr(connect_module, "parse_known_hosts", parse)
    for _ in range(5):
        assert _verdict(c, key) is Verdict.KNOWN
    assert parses == [str(home / "first")]


def test_ssh_config_parsed_once_while_it_is_unchanged(home: Path) -> None:
    c = _connection(home)
    settings = Settings(ssh=SshSettings(config=str(home / "ssh_config")))
    again = connection_for("web1", settings)
    assert again.host == "192.0.2.10" and again.port == 22 and again.user == "root"
    assert again.config.base_ssh_config is c.config.base_ssh_config
    assert again.config is not c.config  # a Connection writes into its Config
    assert again.connect_kwargs == c.connect_kwargs
    (home / "ssh_config").write_text("Host web1\n    HostName 192.0.2.11\n")
    edited = connection_for("web1", settings)
    assert edited.host == "192.0.2.11"


def test_ssh_config_lookups_match_paramikos(tmp_path: Path) -> None:
    text = (
        "Host web*\n    User deploy\n    IdentityFile ~/.ssh/web\n"
        "Host web1 !web2\n    HostName 192.0.2.1\n    Port 2200\n"
        "Match host 192.0.2.1 user deploy\n    IdentityFile ~/.ssh/one\n"
        "Match originalhost db*\n    User dba\n"
        "Host *\n    ConnectTimeout 5\n    IdentityFile ~/.ssh/any\n"
    )
    path = tmp_path / "ssh_config"
    path.write_text(text)
    reference = paramiko.SSHConfig.from_text(text)
    mine = connection_for("x", Settings(ssh=SshSettings(config=str(path)))).config.base_ssh_config
    for host in ["web1", "web2", "db1", "other", "192.0.2.1"]:
        assert mine.lookup(host) == reference.lookup(host)
