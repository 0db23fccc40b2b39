"""Opening a verified SSH connection to a host, and naming why it could not be opened.

Fabric's own ``Connection`` accepts any host key (paramiko ``AutoAddPolicy``) and never
reads known_hosts. Here host keys are checked against the user's known_hosts and the
ssh_config's ``UserKnownHostsFile``; an unknown key stops the host unless
``accept_new_host_keys`` is set (like OpenSSH's ``accept-new``); a changed key never passes.
"""

from __future__ import annotations

import os
import shlex
import socket
from pathlib import Path
from typing import Any

import paramiko
from fabric import Config, Connection
from paramiko.ssh_exception import NoValidConnectionsError

from runbook.settings import Settings, bind_settings, build_settings, with_overrides


class HostUnavailable(Exception):
    """The host could not be reached or logged in to; the message says which and why."""


class _AcceptNew(paramiko.MissingHostKeyPolicy):
    """Record a key never seen before in ``path``, as OpenSSH's ``StrictHostKeyChecking accept-new``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        client.get_host_keys().add(hostname, key.get_name(), key)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="ascii") as handle:
            handle.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")


def connection_for(host: str, settings: Settings) -> Connection:
    """A Fabric Connection for ``host`` using ``settings.ssh_config`` (not yet opened)."""
    if settings.ssh_config:
        path = Path(settings.ssh_config).expanduser()
        if not path.is_file():
            raise HostUnavailable(f"ssh config {path} does not exist: check --ssh-config")
        config = Config(runtime_ssh_path=str(path))
    else:
        config = Config()
    return Connection(host, config=config, connect_timeout=int(settings.connect_timeout))


def open_verified(c: Connection, settings: Settings) -> None:
    """Open ``c`` with host-key checking; raise ``HostUnavailable`` with a clear reason."""
    client = c.client
    client.load_system_host_keys()
    files = _known_hosts_files(c)
    for path in files:
        if path.is_file():
            client.load_host_keys(str(path))
    if settings.accept_new_host_keys:
        target = files[0] if files else Path("~/.ssh/known_hosts").expanduser()
        client.set_missing_host_key_policy(_AcceptNew(target))
    else:
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
    name = f"{c.original_host} ({c.host}:{c.port})"
    try:
        c.open()
    except UnicodeError as exc:
        raise HostUnavailable(f"host name {c.host!r} is not a valid DNS name: {exc}") from exc
    except socket.gaierror as exc:
        raise HostUnavailable(f"unknown host name {c.host!r}: {exc.strerror}") from exc
    except paramiko.BadHostKeyException as exc:
        raise HostUnavailable(
            f"host key for {name} has CHANGED (got {_fingerprint(exc.key)}, expected "
            f"{_fingerprint(exc.expected_key)}): not connecting; verify the host and fix known_hosts"
        ) from exc
    except paramiko.AuthenticationException as exc:
        raise HostUnavailable(f"authentication failed for {c.user}@{name}: {exc}") from exc
    except NoValidConnectionsError as exc:
        raise HostUnavailable(f"{name} is unreachable: {_reason(exc)}") from exc
    except paramiko.SSHException as exc:
        if "not found in known_hosts" in str(exc):
            key = c.client.get_transport()
            shown = _fingerprint(key.get_remote_server_key()) if key else "unknown"
            raise HostUnavailable(
                f"host key for {name} is not known (fingerprint {shown}): verify it and add it to "
                "known_hosts (ssh to the host once), or pass --accept-new-host-keys"
            ) from exc
        raise HostUnavailable(f"SSH to {name} failed: {exc}") from exc
    except (TimeoutError, OSError) as exc:
        raise HostUnavailable(f"{name} is unreachable: {exc}") from exc


def _known_hosts_files(c: Connection) -> list[Path]:
    configured = c.ssh_config.get("userknownhostsfile")
    if not configured:
        return []
    names = configured if isinstance(configured, list) else shlex.split(configured)
    return [Path(os.path.expanduser(name)) for name in names]


def _fingerprint(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.fingerprint}"


def _reason(exc: NoValidConnectionsError) -> str:
    reasons = {str(error) for error in exc.errors.values()}
    return "; ".join(sorted(reasons)) or str(exc)


def connect(host: str, settings: Settings | None = None, **overrides: Any) -> Connection:
    """An open, host-key-verified Connection to ``host`` whose steps use these settings.

    ``overrides`` are settings by name (``ssh_config=".lab/ssh_config"``,
    ``ntp_servers=["10.200.0.2"]``): the way to use steps in your own scripts.
    """
    chosen = with_overrides(settings, overrides) if settings else build_settings(overrides)
    c = connection_for(host, chosen)
    bind_settings(c, chosen)
    open_verified(c, chosen)
    return c
