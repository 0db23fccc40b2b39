"""The shell the runbook runs on hosts: ``.sh`` files of the package, run with arguments.

Every script is POSIX sh (dash, bash, BusyBox ash) and is checked by shellcheck in the test
suite. Values reach a script only as arguments (``$1``, ``$2``...), never in its text.
Sections come back as lines ``@@runbook:NAME@@TOKEN`` followed by the section's text;
``TOKEN`` is random per command (``new_token``), so host content cannot fake a section.
"""

from __future__ import annotations

import re
import secrets
import shlex
from collections.abc import Iterable
from functools import cache
from importlib.resources import files

_HEADER = re.compile(r"^@@runbook:([A-Za-z0-9._-]+)@@([0-9a-f]*)$")
_TOKEN = re.compile(r"^[0-9a-f]*$")
_COMMENT = re.compile(r"^\s*#")


@cache
def read(package: str, name: str) -> str:
    """The script ``name`` of ``package`` without its comment lines (they stay in the file)."""
    text = files(package).joinpath(name).read_text(encoding="utf-8")
    return "".join(line for line in text.splitlines(keepends=True) if not _COMMENT.match(line))


def prelude() -> str:
    """The helpers every script starts with (``rb_sec``, ``rb_run``, ``rb_line``, ``rb_cat``)."""
    return read(__name__, "prelude.sh")


def command(script: str, arguments: Iterable[str], name: str = "runbook") -> str:
    """``sh -c SCRIPT NAME ARG...``, each word quoted: the arguments are the script's ``$1``..."""
    return shlex.join(["sh", "-c", script, name, *arguments])


def checked_token(token: str) -> str:
    """``token`` when it is hexadecimal (what a section header may carry), else ``ValueError``."""
    if not _TOKEN.match(token):
        raise ValueError(f"probe token {token!r} is not hexadecimal")
    return token


def new_token() -> str:
    """A fresh random token for section headers."""
    return secrets.token_hex(8)


def split_sections(text: str, token: str = "") -> dict[str, str]:
    """``{NAME: body}`` from sectioned output; lines before the first header go under ``""``.

    Only header lines carrying exactly ``token`` count; any other line is body text. Lines
    end at ``\\n`` only. A name seen twice gets both bodies, joined. Never raises.
    """
    sections: dict[str, list[str]] = {}
    current = ""
    for raw in text.removesuffix("\n").split("\n"):
        line = raw.removesuffix("\r")
        header = _HEADER.match(line)
        if header and header.group(2) == token:
            current = header.group(1)
            sections.setdefault(current, [])
        else:
            sections.setdefault(current, []).append(line)
    return {name: "\n".join(lines) for name, lines in sections.items() if name or any(lines)}


def section_rc(text: str | None) -> int | None:
    """An exit code section's number, ``None`` when absent or not a number."""
    value = (text or "").strip()
    return int(value) if value.isdigit() and value.isascii() and len(value) < 4 else None
