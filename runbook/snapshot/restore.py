"""``--restore``: the commands that start a service again (and enable it), per init system."""

from __future__ import annotations

import re
import shlex

_NAME = re.compile(r"^[A-Za-z0-9@._:+-]{1,128}$")


def restore_commands(init: str, name: str, *, enable: bool) -> list[str]:
    """Start ``name`` under ``init`` (and enable it at boot when ``enable``); ``[]`` for an unknown init
    or a name that is not a service name."""
    if not _NAME.match(name):
        return []
    quoted = shlex.quote(name)
    if init == "systemd":
        return [
            f"systemctl start {quoted}.service",
            *([f"systemctl enable {quoted}.service"] if enable else []),
        ]
    if init == "openrc":
        return [f"rc-service {quoted} start", *([f"rc-update add {quoted} default"] if enable else [])]
    if init == "sysv":
        return [f"/sbin/service {quoted} start", *([f"chkconfig {quoted} on"] if enable else [])]
    return []
