"""Opening a verified SSH connection to a host, and naming why it could not be opened.

Fabric's own ``Connection`` accepts any host key (paramiko ``AutoAddPolicy``) and never
reads known_hosts. Here host keys are checked against the user's known_hosts and the
ssh_config's ``UserKnownHostsFile``; an unknown key stops the host unless
``accept_new_host_keys`` is set (like OpenSSH's ``accept-new``); a changed key never passes.

A fleet opens many connections from the same files, so the ssh_config (with Fabric's
config) and each known_hosts file are parsed once and shared, not once per connection:
paramiko's known_hosts loader is quadratic in the file's length, and the ssh_config was
parsed whole for every host. Both caches are keyed by the files' contents (read again for
every connection, which is cheap), so a file edited or appended to (``--accept-new-host-keys``)
is parsed again.
"""

from __future__ import annotations

import os
import shlex
import socket
import threading
from pathlib import Path
from typing import Any

import paramiko
from fabric import Config, Connection
from paramiko.ssh_exception import NoValidConnectionsError

from runbook.hosts import HostSelectionError, check_host_name
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


Content = bytes | None
"""A file's bytes as a cache key (None: missing or unreadable): a cache never trusts timestamps."""

_SYSTEM_SSH_CONFIGS = ("~/.ssh/config", "/etc/ssh/ssh_config")
_SYSTEM_KNOWN_HOSTS = "~/.ssh/known_hosts"
_cache_lock = threading.Lock()
_ssh_configs: dict[str | None, tuple[tuple[Content, ...], paramiko.SSHConfig]] = {}
_known_hosts: dict[Path, tuple[bytes, paramiko.HostKeys]] = {}


def _content(path: Path) -> Content:
    try:
        return path.read_bytes()
    except OSError:
        return None


def connection_for(host: str, settings: Settings) -> Connection:
    """A Fabric Connection for ``host`` using ``settings.ssh_config`` (not yet opened).

    ``host`` is checked first: the ssh_config lookup may run ``Match exec`` with it in a shell.
    """
    try:
        check_host_name(host, "the host to connect to")
    except HostSelectionError as exc:
        raise HostUnavailable(str(exc)) from None
    if settings.ssh_config:
        path = Path(settings.ssh_config).expanduser()
        if not path.is_file():
            raise HostUnavailable(f"ssh config {path} does not exist: check --ssh-config")
        parsed = _parsed_ssh_config(str(path))
    else:
        parsed = _parsed_ssh_config(None)
    # A Config of its own (Fabric's yaml files as before) over the shared parsed ssh_config:
    # a Connection writes into its Config (connect_kwargs.key_filename grows with each one).
    config = Config(ssh_config=parsed)
    return Connection(host, config=config, connect_timeout=int(settings.connect_timeout))


class _SSHConfig(paramiko.SSHConfig):
    """paramiko's ``SSHConfig`` without a passwd lookup per ``Host`` block and lookup.

    ``SSHConfig._does_match`` calls ``getpass.getuser()`` before it looks at a block's
    ``Match`` criteria, even when there are none (every ``Host`` block): with a block per
    host, each lookup cost a passwd lookup per host in the file. No criteria match nothing,
    as before.
    """

    def _does_match(self, match_list: list[Any], *args: Any, **kwargs: Any) -> Any:
        if not match_list:
            return []
        return super()._does_match(match_list, *args, **kwargs)  # type: ignore[misc]


def _parsed_ssh_config(runtime_ssh_path: str | None) -> paramiko.SSHConfig:
    """The ssh_config Fabric reads (``runtime_ssh_path``, else the user's and system's),
    parsed once while the files stay the same. Lookups only read it."""
    if runtime_ssh_path is not None:
        files = [Path(runtime_ssh_path)]
    else:
        files = [Path(os.path.expanduser(name)) for name in _SYSTEM_SSH_CONFIGS]
    content = tuple(_content(path) for path in files)
    with _cache_lock:
        cached = _ssh_configs.get(runtime_ssh_path)
        if cached is not None and cached[0] == content:
            return cached[1]
        loaded = Config(runtime_ssh_path=runtime_ssh_path) if runtime_ssh_path else Config()
        parsed = _SSHConfig()
        vars(parsed).update(vars(loaded.base_ssh_config))
        _ssh_configs[runtime_ssh_path] = (content, parsed)
        return parsed


def _parsed_known_hosts(path: Path, *, system: bool = False) -> paramiko.HostKeys | None:
    """``path`` parsed by paramiko, once per content; None when it is not a file.

    A ``system`` file that cannot be read is ignored, as paramiko's ``load_system_host_keys``
    does; any other file's read error propagates as from ``load_host_keys``.
    """
    if not path.is_file():
        return None
    try:
        content = path.read_bytes()
        with _cache_lock:
            cached = _known_hosts.get(path)
            if cached is not None and cached[0] == content:
                return cached[1]
            keys = paramiko.HostKeys()
            keys.load(str(path))
            if path.read_bytes() == content:  # else changed while loading: parse again next time
                _known_hosts[path] = (content, keys)
            return keys
    except OSError:
        if system:
            return None
        raise


def _known_keys(c: Connection) -> list[tuple[str, paramiko.PKey]]:
    """The known keys paramiko would check ``c``'s server against, in its order of preference.

    As ``SSHClient.connect`` after ``load_system_host_keys`` and ``load_host_keys`` per file:
    the host's entries in the user's ~/.ssh/known_hosts when it has any, else its entries in
    the ssh_config's ``UserKnownHostsFile`` files in order; per key type the first one wins.
    """
    name = _host_key_name(c)
    system = _parsed_known_hosts(Path(os.path.expanduser(_SYSTEM_KNOWN_HOSTS)), system=True)
    sources: list[paramiko.HostKeys | None] = [system]
    if system is None or system.lookup(name) is None:
        sources = [_parsed_known_hosts(path) for path in _known_hosts_files(c)]
    found: dict[str, paramiko.PKey] = {}
    for keys in sources:
        matches = keys.lookup(name) if keys is not None else None
        if matches is None:
            continue
        for keytype in matches:
            if keytype not in found:
                found[keytype] = matches[keytype]
    return list(found.items())


def _host_key_name(c: Connection) -> str:
    """The name paramiko looks the server's key up by: ``host``, or ``[host]:port`` off port 22."""
    return c.host if c.port == 22 else f"[{c.host}]:{c.port}"


def open_verified(c: Connection, settings: Settings) -> None:
    """Open ``c`` with host-key checking; raise ``HostUnavailable`` with a clear reason."""
    client = c.client
    files = _known_hosts_files(c)
    if settings.accept_new_host_keys:
        target = files[0] if files else Path("~/.ssh/known_hosts").expanduser()
        client.set_missing_host_key_policy(_AcceptNew(target))
    else:
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
    name = f"{c.original_host} ({c.host}:{c.port})"
    try:
        for keytype, key in _known_keys(c):
            client.get_host_keys().add(_host_key_name(c), keytype, key)
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
