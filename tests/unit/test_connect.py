"""Host keys and ssh_config parsed once per file, checked exactly as paramiko would check them."""

from __future__ import annotations

import importlib
from pathlib import Path

import paramiko
import pytest
from fabric import Connection
from paramiko.hostkeys import HostKeys

from runbook.connect import _known_keys, connection_for
from runbook.settings import Settings

connect_module = importlib.import_module("runbook.connect")  # ``runbook.connect`` is also a function


def _key() -> paramiko.PKey:
    return paramiko.ECDSAKey.generate(bits=256)


def _line(names: str, key: paramiko.PKey) -> str:
    return f"{names} {key.get_name()} {key.get_base64()}\n"


def _hashed(name: str, key: paramiko.PKey) -> str:
    return _line(HostKeys.hash_host(name), key)


def _paramiko_keys(system: Path, files: list[Path], name: str) -> list[tuple[str, paramiko.PKey]]:
    """What ``SSHClient.connect`` would check the server against, after loading these files."""
    client = paramiko.SSHClient()
    if system.is_file():
        client.load_system_host_keys(str(system))
    for path in files:
        if path.is_file():
            client.load_host_keys(str(path))
    found = client._system_host_keys.get(name)  # type: ignore[attr-defined]
    if found is None:
        found = client.get_host_keys().get(name)
    if found is None:
        return []
    return [(keytype, found[keytype]) for keytype in dict.fromkeys(found.keys())]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(connect_module, "_SYSTEM_KNOWN_HOSTS", str(tmp_path / "system_known_hosts"))
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
    return connection_for("web1", Settings(ssh_config=str(config)))


@pytest.mark.parametrize("port", [22, 2222])
def test_known_keys_are_those_paramiko_would_check(home: Path, port: int) -> None:
    c = _connection(home, port)
    name = "192.0.2.10" if port == 22 else "[192.0.2.10]:2222"
    mine, other, rsa_like, later = _key(), _key(), _key(), _key()
    files = [home / "first", home / "second"]
    system = home / "system_known_hosts"
    cases = [
        ("", "", ""),  # nothing known
        ("", _line(f"web9,{name}", mine), ""),
        ("", _hashed(name, mine) + _line(name, other), _line(name, later)),  # first entry wins
        ("", _line("other", other), _line(name, later) + _hashed(name, mine)),
        ("", _line(name, mine) + _line(name, mine), _line(name, mine)),  # duplicates dropped
        (_line("elsewhere", rsa_like), _line(name, mine), ""),  # system file without the host
        (_line(name, other), _line(name, mine), ""),  # system file wins when it has the host
        (_hashed(name, other), "", _line(name, mine)),
    ]
    for system_text, first_text, second_text in cases:
        for path, text in zip([system, *files], [system_text, first_text, second_text], strict=True):
            path.unlink(missing_ok=True)
            if text:
                path.write_text(text)
        expected = _paramiko_keys(system, files, name)
        got = _known_keys(c)
        assert [(t, k.get_base64()) for t, k in got] == [(t, k.get_base64()) for t, k in expected]


def test_known_hosts_is_read_again_once_it_changes(home: Path) -> None:
    c = _connection(home)
    first = home / "first"
    first.write_text(_line("other", _key()))
    assert _known_keys(c) == []
    added = _key()
    with first.open("a") as handle:  # as --accept-new-host-keys appends
        handle.write(_line("192.0.2.10", added))
    assert [k.get_base64() for _, k in _known_keys(c)] == [added.get_base64()]


def test_parsed_once_per_file(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = _connection(home)
    (home / "first").write_text(_line("192.0.2.10", _key()))
    loads: list[str] = []
    real_load = HostKeys.load

    def load(self: HostKeys, name: str) -> None:
        loads.append(name)
        real_load(self, name)

    monkeypatch.setattr(HostKeys, "load", load)
    for _ in range(5):
        assert len(_known_keys(c)) == 1
    assert loads == [str(home / "first")]


def test_ssh_config_parsed_once_while_it_is_unchanged(home: Path) -> None:
    c = _connection(home)
    settings = Settings(ssh_config=str(home / "ssh_config"))
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
    mine = connection_for("x", Settings(ssh_config=str(path))).config.base_ssh_config
    for host in ["web1", "web2", "db1", "other", "192.0.2.1"]:
        assert mine.lookup(host) == reference.lookup(host)
