"""The fact "ntpd starts without ``-g``": without it, an offset over 1000 s makes ntpd exit.

``ntpd_options.sh`` prints the section ``ntpd.options``: each options file found (``file PATH``)
followed by its option lines; ``without_panic_gate`` reads it.
"""

from __future__ import annotations

import re
import shlex

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
