"""Issue 12, items 13 and 15: the sudo password leaves the environment; NTP server names are checked."""

from __future__ import annotations

import os
import subprocess

import pytest

from runbook import settings as settings_module
from runbook.errors import SettingsError
from runbook.settings import build_settings


@pytest.fixture
def fresh_environment_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """No password remembered from an earlier test (and none left behind for later ones)."""
    monkeypatch.setattr(settings_module, "_from_environment", {}, raising=False)


@pytest.mark.usefixtures("fresh_environment_secret")
def test_sudo_password_is_taken_out_of_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNBOOK_SUDO_PASSWORD", "canary-8d1f")
    assert build_settings({}).ssh.sudo_password == "canary-8d1f"
    assert "RUNBOOK_SUDO_PASSWORD" not in os.environ
    child = subprocess.run(
        ["sh", "-c", 'echo "${RUNBOOK_SUDO_PASSWORD-unset}"'], capture_output=True, text=True, check=True
    )
    assert child.stdout == "unset\n"
    assert build_settings({}).ssh.sudo_password == "canary-8d1f"  # remembered for later settings


@pytest.mark.parametrize(
    "server",
    ["-q", "-u", "ntp one", "ntp\nserver evil", "ntp;touch x", "$(id)", "ntp'x", "a" * 254],
)
def test_bad_ntp_server_names_are_refused(server: str) -> None:
    with pytest.raises(SettingsError, match="is not a host name or IP address"):
        build_settings({"ntp_servers": ["pool.ntp.org", server]})


@pytest.mark.parametrize("server", ["pool.ntp.org", "10.200.0.1", "::1", "fe80::1", "time_1.example"])
def test_good_ntp_server_names_pass(server: str) -> None:
    assert build_settings({"ntp_servers": [server]}).ntp.servers == (server,)
