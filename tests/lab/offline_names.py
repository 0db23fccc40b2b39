"""Run a command with name resolution from /etc/hosts only, so an unknown name never reaches DNS."""

from __future__ import annotations

from pathlib import Path

_SCRIPT = 'mount --make-rprivate / && mount --bind "$0" /etc/nsswitch.conf && exec "$@"'


def files_only_resolution(argv: list[str], scratch: Path) -> list[str]:
    """``argv`` wrapped in a private mount namespace whose nsswitch.conf says ``hosts: files``."""
    nsswitch = scratch / "nsswitch-files-only.conf"
    nsswitch.write_text("hosts: files\n")
    return ["unshare", "--mount", "sh", "-c", _SCRIPT, str(nsswitch), *argv]
