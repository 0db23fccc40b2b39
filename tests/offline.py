"""A pytest plugin (``-p offline``) keeping the test process off DNS: only IP literals and localhost resolve.

Tests name hosts that must not resolve (``*.invalid``); letting glibc ask the machine's
resolver would send queries off this machine. Subprocesses that need the same guarantee run
under ``files_only_resolution`` (tests/lab/offline_names.py).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

_real_getaddrinfo = socket.getaddrinfo


def _local_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if isinstance(name, str):
        name.encode("idna")  # as the real getaddrinfo does: a malformed name raises UnicodeError
    if name is None or name == "localhost" or _is_address(str(name)):
        return _real_getaddrinfo(host, *args, **kwargs)
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.split("%", maxsplit=1)[0])
    except ValueError:
        return False
    return True


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _local_only)
