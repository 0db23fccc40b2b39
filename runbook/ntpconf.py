"""Whether an ntpd/ntpsec configuration can ever select a system peer: enough sources for ``tos minsane``.

Debian's ntpsec ships ``tos minclock 4 minsane 3``: with one ``server`` line (an admin who uses one
provider server) ntpsec never selects a system peer, ``ntpq -pn`` shows ``+`` and never ``*``, however
long one waits. ``verify`` asks this before waiting, so it says why at once instead of timing out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CONFIG_FILES = {"ntpsec": ("/etc/ntpsec/ntp.conf", "/etc/ntp.conf"), "ntpd": ("/etc/ntp.conf",)}
_DIRECTIVES = r"^[[:space:]]*(server|peer|pool|tos|includefile)[[:space:]]"


def read_command(family: str) -> str:
    """``grep -H`` of the source, ``tos`` and ``includefile`` lines of ``family``'s config files."""
    files = " ".join(CONFIG_FILES[family])
    return f"grep -HE '{_DIRECTIVES}' {files}"


@dataclass(frozen=True)
class Sources:
    """One config file's sources and the ``tos minsane`` it demands (ntpd's default is 1)."""

    file: str
    servers: int = 0
    pools: int = 0
    includes: int = 0
    minsane: int = 1


def parse_sources(text: str, family: str) -> Sources | None:
    """The first of ``family``'s config files found in ``grep -H`` output, or None when none was."""
    found: dict[str, Sources] = {}
    for line in text.splitlines():
        path, _, rest = line.partition(":")
        words = rest.split()
        if not words:
            continue
        current = found.get(path, Sources(path))
        keyword = words[0]
        if keyword in ("server", "peer"):
            current = _replace(current, servers=current.servers + 1)
        elif keyword == "pool":
            current = _replace(current, pools=current.pools + 1)
        elif keyword == "includefile":
            current = _replace(current, includes=current.includes + 1)
        elif keyword == "tos":
            match = re.search(r"\bminsane\s+(\d+)", rest)
            if match:
                current = _replace(current, minsane=int(match.group(1)))
        found[path] = current
    for path in CONFIG_FILES.get(family, ()):
        if path in found:
            return found[path]
    return None


def never_selects(sources: Sources | None, daemon: str) -> str | None:
    """Why ``daemon`` can never select a system peer with ``sources``, or None when it might."""
    if sources is None or sources.pools or sources.includes or sources.servers >= sources.minsane:
        return None
    count = f"{sources.servers} server{'s' if sources.servers != 1 else ''}"
    return (
        f"{daemon} can never select a system peer: {sources.file} has {count} but `tos minsane "
        f"{sources.minsane}` needs at least {sources.minsane} (Debian's ntpsec default); add servers "
        "or lower it (`tos minclock 1 minsane 1` for one trusted server)"
    )


def _replace(sources: Sources, **changes: int) -> Sources:
    values = {**sources.__dict__, **changes}
    return Sources(**values)
