"""Opening a verified SSH connection to a host, and naming why it could not be opened.

Fabric's own ``Connection`` accepts any host key (paramiko ``AutoAddPolicy``) and never
reads known_hosts. Here every server key, the target's and each ``ProxyJump`` hop's, is
checked as OpenSSH checks it (``runbook.knownhosts``) against the ssh_config's
``UserKnownHostsFile`` (default ``~/.ssh/known_hosts ~/.ssh/known_hosts2``) and
``GlobalKnownHostsFile`` (default ``/etc/ssh/ssh_known_hosts …2``); an unknown key stops the
host unless ``accept_new_host_keys`` is set (like OpenSSH's ``accept-new``: appended to the
first ``UserKnownHostsFile``, hashed under ``HashKnownHosts yes``); a changed or revoked key
never passes. Every hop gets the same connect timeout as the target.

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

from runbook import knownhosts
from runbook.errors import HostUnavailable
from runbook.hosts import HostSelectionError, check_host_name
from runbook.knownhosts import KnownHostsFile, Verdict, parse_known_hosts
from runbook.output import CappedRemote
from runbook.sealed import SealableConnection
from runbook.session import attach
from runbook.settings import Settings, build_settings, with_overrides


class HostKeyRefused(paramiko.SSHException):
    """A server key that is unknown, changed or revoked; the message says which and what to do."""


Content = bytes | None
"""A file's bytes as a cache key (None: missing or unreadable): a cache never trusts timestamps."""

_SYSTEM_SSH_CONFIGS = ("~/.ssh/config", "/etc/ssh/ssh_config")
_USER_KNOWN_HOSTS = ("~/.ssh/known_hosts", "~/.ssh/known_hosts2")
_GLOBAL_KNOWN_HOSTS = ("/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2")
_cache_lock = threading.Lock()
_ssh_configs: dict[str | None, tuple[tuple[Content, ...], paramiko.SSHConfig]] = {}
_known_hosts: dict[Path, tuple[bytes, KnownHostsFile]] = {}


def _content(path: Path) -> Content:
    try:
        return path.read_bytes()
    except OSError:
        return None


def connection_for(host: str, settings: Settings) -> Connection:
    """A Fabric Connection for ``host`` (not yet opened): the ssh_config, with ``user``, ``port``
    and ``identity`` from the settings over it when given.

    ``host`` is checked first: the ssh_config lookup may run ``Match exec`` with it in a shell.
    """
    try:
        check_host_name(host, "the host to connect to")
    except HostSelectionError as exc:
        raise HostUnavailable(str(exc)) from None
    if settings.ssh.config:
        path = Path(settings.ssh.config).expanduser()
        if not path.is_file():
            raise HostUnavailable(f"ssh config {path} does not exist: check --ssh-config")
        parsed = _parsed_ssh_config(str(path))
    else:
        parsed = _parsed_ssh_config(None)
    # A Config of its own (Fabric's yaml files as before) over the shared parsed ssh_config:
    # a Connection writes into its Config (connect_kwargs.key_filename grows with each one).
    config = Config(ssh_config=parsed)
    config.run.in_stream = False  # no task of a run reads the controller's stdin
    config.runners.remote = CappedRemote  # output kept within a limit (runbook.output)
    given: dict[str, Any] = {}
    if settings.ssh.identity:
        given["connect_kwargs"] = {"key_filename": [str(Path(settings.ssh.identity).expanduser())]}
    return SealableConnection(
        host,
        user=settings.ssh.user,
        port=settings.ssh.port,
        config=config,
        connect_timeout=int(settings.ssh.connect_timeout),
        **given,
    )


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


def _parsed_known_hosts(path: Path) -> KnownHostsFile | None:
    """``path`` parsed, once per content; None when it is missing or unreadable (as OpenSSH)."""
    content = _content(path)
    if content is None:
        return None
    with _cache_lock:
        cached = _known_hosts.get(path)
        if cached is not None and cached[0] == content:
            return cached[1]
        parsed = parse_known_hosts(content.decode("utf-8", "replace"), str(path))
        _known_hosts[path] = (content, parsed)
        return parsed


def _files_option(c: Connection, option: str, default: tuple[str, ...]) -> list[Path]:
    configured = c.ssh_config.get(option)
    if not configured:
        names = list(default)
    else:
        names = configured if isinstance(configured, list) else shlex.split(configured)
    return [Path(os.path.expanduser(name)) for name in names if name.lower() != "none"]


def _known_hosts_files(c: Connection) -> list[Path]:
    """``UserKnownHostsFile`` of ``c``'s ssh_config, else OpenSSH's default files."""
    return _files_option(c, "userknownhostsfile", _USER_KNOWN_HOSTS)


def _known_hosts_for(c: Connection) -> list[KnownHostsFile]:
    """Every known_hosts file OpenSSH would read for ``c``: the user's files, then the global ones."""
    paths = _known_hosts_files(c) + _files_option(c, "globalknownhostsfile", _GLOBAL_KNOWN_HOSTS)
    return [parsed for path in paths if (parsed := _parsed_known_hosts(path)) is not None]


def _host_key_name(c: Connection) -> str:
    """The name a key is looked up by: ``HostKeyAlias`` or ``host``, as ``[host]:port`` off port 22."""
    name = str(c.ssh_config.get("hostkeyalias") or c.host)
    return name if c.port == 22 else f"[{name}]:{c.port}"


def _label(c: Connection) -> str:
    return f"{c.original_host} ({c.host}:{c.port})"


class _VerifyHostKey(paramiko.MissingHostKeyPolicy):
    """Every server key is judged here: the client is given no known keys of its own."""

    def __init__(self, c: Connection, *, accept_new: bool, jump_for: Connection | None) -> None:
        self.c = c
        self.accept_new = accept_new
        self.label = _label(c) + (f", the jump host to {_label(jump_for)}" if jump_for is not None else "")

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        name, keytype, blob = _host_key_name(self.c), key.get_name(), key.get_base64()
        verdict, entry = knownhosts.check(_known_hosts_for(self.c), name, keytype, blob)
        shown = knownhosts.fingerprint(keytype, blob)
        if verdict is Verdict.KNOWN:
            return
        if verdict is Verdict.REVOKED:
            raise HostKeyRefused(
                f"host key for {self.label} is REVOKED in known_hosts ({shown}): not connecting"
            )
        if verdict is Verdict.CHANGED and entry is not None:
            raise HostKeyRefused(
                f"host key for {self.label} has CHANGED (got {shown}, expected "
                f"{knownhosts.fingerprint(entry.keytype, entry.key)}): not connecting; "
                "verify the host and fix known_hosts"
            )
        if not self.accept_new:
            raise HostKeyRefused(
                f"host key for {self.label} is not known (fingerprint {shown}): verify it and add it to "
                "known_hosts (ssh to the host once), or pass --accept-new-host-keys"
            )
        files = _known_hosts_files(self.c)
        target = files[0] if files else Path(os.path.expanduser(_USER_KNOWN_HOSTS[0]))
        hashed = str(self.c.ssh_config.get("hashknownhosts", "no")).lower() == "yes"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="ascii") as handle:
            handle.write(knownhosts.entry_line(name, keytype, blob, hashed=hashed))


def _chain(c: Connection) -> list[Connection]:
    """``c``'s ``ProxyJump`` hops in the order they are opened (the first hop first), then ``c``."""
    chain = [c]
    while isinstance(chain[0].gateway, Connection):
        chain.insert(0, chain[0].gateway)
    return chain


def open_verified(c: Connection, settings: Settings) -> None:
    """Open ``c`` (and its jump hosts) with host-key checking; ``HostUnavailable`` with a clear reason."""
    chain = _chain(c)
    for hop in chain:
        jump_for = None if hop is c else c
        hop.client.set_missing_host_key_policy(
            _VerifyHostKey(hop, accept_new=settings.ssh.accept_new_host_keys, jump_for=jump_for)
        )
        hop.connect_timeout = int(settings.ssh.connect_timeout)
    try:
        c.open()
    except UnicodeError as exc:
        raise HostUnavailable(f"host name {c.host!r} is not a valid DNS name: {exc}") from exc
    except socket.gaierror as exc:
        failed = _failed(chain)
        raise HostUnavailable(f"unknown host name {failed.host!r}: {exc.strerror}") from exc
    except HostKeyRefused as exc:
        raise HostUnavailable(str(exc)) from exc
    except paramiko.AuthenticationException as exc:
        failed = _failed(chain)
        raise HostUnavailable(f"authentication failed for {failed.user}@{_where(failed, c)}: {exc}") from exc
    except NoValidConnectionsError as exc:
        raise HostUnavailable(f"{_where(_failed(chain), c)} is unreachable: {_reason(exc)}") from exc
    except paramiko.SSHException as exc:
        raise HostUnavailable(f"SSH to {_where(_failed(chain), c)} failed: {exc}") from exc
    except (TimeoutError, OSError) as exc:
        raise HostUnavailable(f"{_where(_failed(chain), c)} is unreachable: {exc}") from exc


def _failed(chain: list[Connection]) -> Connection:
    """The first connection of ``chain`` that did not open (Fabric sets ``transport`` once it has)."""
    return next((hop for hop in chain if hop.transport is None), chain[-1])


def _where(failed: Connection, c: Connection) -> str:
    return _label(failed) if failed is c else f"{_label(failed)}, the jump host to {_label(c)}"


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
    attach(c, chosen)
    open_verified(c, chosen)
    return c
