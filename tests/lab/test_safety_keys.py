"""Host keys over real OpenSSH (issue 12, items 3, 9, 14): jump hosts are verified like targets,
known_hosts markers never stop unrelated hosts, and the files are read as OpenSSH reads them."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lab import Lab, LabHost
from runbook.connect import connect
from runbook.errors import HostUnavailable

pytestmark = pytest.mark.lab


def known_lines(lab: Lab, *names: str) -> str:
    lines = lab.layout.known_hosts.read_text().splitlines()
    return "".join(line + "\n" for line in lines if line.split(",")[0] in names)


def fresh_key(tmp: Path, name: str) -> tuple[str, str]:
    """``(keytype, base64)`` of a new ed25519 key nobody has."""
    path = tmp / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    keytype, key = path.with_suffix(".pub").read_text().split()[:2]
    return keytype, key


def host_key_line(lab: Lab, name: str) -> tuple[str, str]:
    """``(keytype, base64)`` of ``name``'s host key."""
    line = known_lines(lab, name).split()
    return line[1], line[2]


def ssh_config(lab: Lab, tmp: Path, known: str, extra: str = "", options: str = "") -> Path:
    """The lab's ssh_config using ``tmp/known_hosts`` (holding ``known``), plus ``extra`` blocks."""
    (tmp / "known_hosts").write_text(known)
    text = lab.layout.ssh_config.read_text().replace(str(lab.layout.known_hosts), str(tmp / "known_hosts"))
    if options:
        text = text.replace("    LogLevel ERROR\n", f"    LogLevel ERROR\n{options}")
    config = tmp / "ssh_config"
    config.write_text(text + extra)
    return config


def jump_block(lab: Lab, tmp: Path, hop: str, address: str) -> str:
    return (
        f"\nHost jumped\n    HostName {address}\n    User root\n    IdentityFile {lab.layout.identity}\n"
        f"    IdentitiesOnly yes\n    UserKnownHostsFile {tmp / 'known_hosts'}\n    ProxyJump {hop}\n"
    )


# -- item 3: ProxyJump hops ------------------------------------------------------------------


def test_an_unknown_jump_host_is_refused_like_a_target(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    hop, target = lab_host(), lab_host()
    config = ssh_config(
        lab, tmp_path, known_lines(lab, target.name), jump_block(lab, tmp_path, hop.name, target.address)
    )
    with pytest.raises(HostUnavailable) as refused:
        connect("jumped", ssh_config=str(config), connect_timeout=5)
    message = str(refused.value)
    assert (
        f"host key for {hop.name} ({hop.address}:22), the jump host to jumped ({target.address}:22)"
        in message
    )
    assert "is not known" in message


def test_a_known_jump_host_leads_to_the_target_and_accept_new_records_it(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    hop, target = lab_host(), lab_host()
    expected = target.run("hostname").stdout.strip()
    block = jump_block(lab, tmp_path, hop.name, target.address)
    config = ssh_config(lab, tmp_path, known_lines(lab, hop.name, target.name), block)
    c = connect("jumped", ssh_config=str(config), connect_timeout=5)
    assert c.run("hostname", hide=True, in_stream=False).stdout.strip() == expected
    c.close()
    config = ssh_config(lab, tmp_path, known_lines(lab, target.name), block)
    c = connect("jumped", ssh_config=str(config), connect_timeout=5, accept_new_host_keys=True)
    c.close()
    keytype, key = host_key_line(lab, hop.name)
    assert f"{hop.address} {keytype} {key}\n" in (tmp_path / "known_hosts").read_text()


def test_a_jump_host_that_never_answers_times_out_like_a_target(lab: Lab, tmp_path: Path) -> None:
    prefix = lab.record()["ntp_server"].rsplit(".", 1)[0]
    extra = f"\nHost ghost\n    HostName {prefix}.250\n    User root\n" + jump_block(
        lab, tmp_path, "ghost", f"{prefix}.251"
    )
    config = ssh_config(lab, tmp_path, "", extra)
    started = time.monotonic()
    with pytest.raises(HostUnavailable, match=f"ghost \\({prefix}.250:22\\), the jump host to jumped"):
        connect("jumped", ssh_config=str(config), connect_timeout=2)
    assert time.monotonic() - started < 6


# -- item 9: @cert-authority and @revoked ----------------------------------------------------------


def test_marker_lines_never_stop_unrelated_hosts(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host()
    keytype, blob = fresh_key(tmp_path, "other")
    known = (
        f"@cert-authority *.example.com {keytype} {blob}\n"
        f"@revoked elsewhere.example.com {keytype} {blob}\n"
        "garbage line\n" + known_lines(lab, host.name)
    )
    config = ssh_config(lab, tmp_path, known)
    c = connect(host.name, ssh_config=str(config), connect_timeout=5)
    assert c.run("true", hide=True, in_stream=False).ok
    c.close()


def test_a_revoked_key_is_refused_even_when_listed(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host()
    keytype, key = host_key_line(lab, host.name)
    config = ssh_config(lab, tmp_path, f"@revoked * {keytype} {key}\n" + known_lines(lab, host.name))
    with pytest.raises(HostUnavailable, match=f"host key for {host.name} \\(.*\\) is REVOKED in known_hosts"):
        connect(host.name, ssh_config=str(config), connect_timeout=5, accept_new_host_keys=True)


# -- item 14: which files, and hashed names ----------------------------------------------------------


def test_a_stale_user_known_hosts_does_not_override_the_configured_file(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = lab_host()
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    stale_type, stale = fresh_key(tmp_path, "stale")
    (home / ".ssh" / "known_hosts").write_text(f"{host.name},{host.address} {stale_type} {stale}\n")
    monkeypatch.setenv("HOME", str(home))
    config = ssh_config(lab, tmp_path, known_lines(lab, host.name))
    c = connect(host.name, ssh_config=str(config), connect_timeout=5)
    assert c.run("true", hide=True, in_stream=False).ok
    c.close()


def test_accept_new_writes_hashed_names_under_hash_known_hosts(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host()
    config = ssh_config(lab, tmp_path, "", options="    HashKnownHosts yes\n")
    connect(host.name, ssh_config=str(config), connect_timeout=5, accept_new_host_keys=True).close()
    written = (tmp_path / "known_hosts").read_text()
    assert written.startswith("|1|") and host.address not in written and written.count("\n") == 1
    c = connect(host.name, ssh_config=str(config), connect_timeout=5)  # verified against the hashed line
    assert c.run("true", hide=True, in_stream=False).ok
    c.close()
