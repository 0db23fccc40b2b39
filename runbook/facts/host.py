"""Facts about the host itself: OS, init system, tools, ntpdate's flavour, hardware clock (pure parsers)."""

from __future__ import annotations

import re

_BOOT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TOOLS = (
    "ntpdate",
    "ntpd",
    "ntpdig",
    "sntp",
    "chronyd",
    "chronyc",
    "timedatectl",
    "hwclock",
    "ntpq",
    "ntpstat",
)
"""Programs whose presence the probe reports (``command -v``)."""


def parse_os(text: str) -> str:
    """``CentOS release 6.10 (Final)``, or os-release's PRETTY_NAME without its quotes."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line.strip("\"'") or "unknown"


def parse_boot_id(text: str) -> str | None:
    """The kernel's boot id (``/proc/sys/kernel/random/boot_id``, a UUID), ``None`` when absent or odd."""
    value = text.strip().lower()
    return value if _BOOT_ID.fullmatch(value) else None


def parse_init(text: str) -> str:
    """``systemd``, ``openrc``, ``sysv``; ``unknown`` when the probe printed none."""
    return text.strip() or "unknown"


def parse_tools(text: str) -> dict[str, str]:
    """``{tool: path}`` from ``NAME PATH`` lines."""
    tools: dict[str, str] = {}
    for line in text.splitlines():
        name, _, path = line.strip().partition(" ")
        if name and path.startswith("/"):
            tools[name] = path.strip()
    return tools


def parse_flavour(text: str) -> str | None:
    """ntpdate's flavour: ``classic``, ``ntpsec`` (NTPsec's wrapper around ntpdig), ``None``."""
    flavour = text.strip()
    return flavour if flavour in {"classic", "ntpsec"} else None


def parse_yes(text: str) -> bool | None:
    """``yes`` or ``no``, else ``None``."""
    return {"yes": True, "no": False}.get(text.strip())
