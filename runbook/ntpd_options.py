"""A fact: does ntpd (classic or ntpsec) start with ``-g``? Without it, an offset over 1000 s makes ntpd exit.

The probe section ``ntpd.options`` lists each options file found (``file PATH``) followed by its
option lines: ``OPTIONS=`` in /etc/sysconfig/ntpd, ``NTPD_OPTS=`` in /etc/default/ntp and
/etc/default/ntpsec, then the ``ExecStart=`` lines of the ntpd/ntp/ntpsec systemd units.
``without_panic_gate`` reads it.
"""

from __future__ import annotations

import re
import shlex

FILES = ("/etc/sysconfig/ntpd", "/etc/default/ntp", "/etc/default/ntpsec")
UNITS = tuple(
    f"{folder}/{name}.service"
    for folder in ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")
    for name in ("ntpd", "ntp", "ntpsec")
)
FRAGMENT = (
    "rb_sec ntpd.options\n"
    f"for rb_f in {' '.join(FILES)}; do\n"
    '  if [ -f "$rb_f" ]; then echo "file $rb_f"; '
    "grep -E '^[[:space:]]*(OPTIONS|NTPD_OPTS)=' \"$rb_f\"; fi\n"
    "done\n"
    f"for rb_f in {' '.join(UNITS)}; do\n"
    '  if [ -f "$rb_f" ]; then echo "file $rb_f"; '
    "grep -E '^[[:space:]]*ExecStart=' \"$rb_f\"; fi\n"
    "done\n"
)
_SHORT_FLAGS = re.compile(r"^-[A-Za-z]*g[A-Za-z]*$")


def without_panic_gate(section: str | None) -> str | None:
    """The file whose ntpd options lack ``-g`` (``--panicgate``), or ``None`` when they have it or
    nothing says (no file, or a unit that takes its options from a variable)."""
    if not section:
        return None
    options: dict[str, list[str]] = {}
    current = ""
    for line in section.splitlines():
        if line.startswith("file "):
            current = line.removeprefix("file ").strip()
            options.setdefault(current, [])
        elif current and line.strip():
            options[current].append(line.split("=", 1)[1] if "=" in line else "")
    env = [(path, lines) for path, lines in options.items() if not path.endswith(".service") and lines]
    if env:
        if any(_has_gate(value) for _, lines in env for value in lines):
            return None
        return env[0][0]
    for path, lines in options.items():
        if path.endswith(".service") and lines:
            if any(_has_gate(value) for value in lines) or any("$" in value for value in lines):
                return None
            return path
    return None


def _has_gate(value: str) -> bool:
    try:
        words = shlex.split(value)
    except ValueError:
        words = value.strip("'\"").split()
    if len(words) == 1 and " " in words[0]:
        words = words[0].split()
    return any(word == "--panicgate" or _SHORT_FLAGS.match(word) for word in words)
