"""Text helpers for Markdown records: fences, table cells, visible control characters.

Everything that comes from a host (output, messages, data) passes through these before it
reaches Markdown, so it can neither break the layout nor inject markup.
"""

from __future__ import annotations

import json
import re
import unicodedata

from runbook.durations import format_duration

HEAD_LINES = 30
TAIL_LINES = 30
MAX_LINE = 1000
_BACKTICKS = re.compile(r"`+")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_KEEP = {"\n", "\t"}
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_BLOCK_START = re.compile(r"[#>+\-*=_|~`]")
_ORDERED_START = re.compile(r"^(\d{1,9})([.)])")


def visible(text: str) -> str:
    """``text`` with control, format and line-separator characters written as escapes (``\\x1b``)."""
    text = text.replace("\r\n", "\n")
    if text.isascii():
        return _ASCII_CONTROL.sub(lambda m: _escape(m.group()), text)
    if text.replace("\n", "").replace("\t", "").isprintable():
        return text  # no Other (C*) or Separator (Z*) character but the space: nothing to escape
    return "".join(
        ch if ch in _KEEP or unicodedata.category(ch) not in {"Cc", "Cf", "Zl", "Zp"} else _escape(ch)
        for ch in text
    )


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def one_line(text: str) -> str:
    """Visible text on one line: newlines become `` ↵ ``."""
    return visible(text.strip()).replace("\n", " ↵ ")


def inline(text: str) -> str:
    """One-line text that cannot start an HTML tag or comment."""
    return _TAG_START.sub("&lt;", one_line(text))


def prose(text: str) -> str:
    """``inline`` text that also cannot open a block (fence, heading, list, quote) at a line's start."""
    line = inline(text)
    if _BLOCK_START.match(line):
        return "\\" + line
    return _ORDERED_START.sub(r"\1\\\2", line, count=1)


def cell(text: object) -> str:
    """Text safe inside a GFM table cell (``|`` escaped, one line)."""
    return inline(str(text)).replace("|", "\\|")


def fence(text: str, info: str = "") -> str:
    """``text`` in a backtick fence longer than any backtick run inside it (CommonMark)."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    marks = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{marks}{info}\n{body}{marks}"


def code(text: object) -> str:
    """An inline code span that the content's own backticks cannot close."""
    body = one_line(str(text))
    runs = {len(run) for run in _BACKTICKS.findall(body)}
    size = next(n for n in range(1, len(runs) + 2) if n not in runs)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{'`' * size}{pad}{body}{pad}{'`' * size}"


def code_cell(text: object) -> str:
    """An inline code span inside a GFM table cell (its ``|`` escaped as the table needs)."""
    return code(text).replace("|", "\\|")


def clip(text: str, head: int = HEAD_LINES, tail: int = TAIL_LINES, *, what: str = "lines") -> str:
    """Visible ``text`` with very long lines shortened and only the first and last lines of long output.

    The marker says how many ``what`` were left out, and that the JSON record has them.
    """
    lines = visible(text).split("\n")
    if len(lines) > head + tail + 1:
        omitted = len(lines) - head - tail
        marker = f"… {omitted} {what} omitted (the JSON record has them all) …"
        lines = [*lines[:head], marker, *lines[-tail:]]
    return "\n".join(_clip_line(line) for line in lines)


def _clip_line(line: str) -> str:
    if len(line) <= MAX_LINE:
        return line
    keep = MAX_LINE // 2
    return f"{line[:keep]} … {len(line) - 2 * keep} characters omitted … {line[-keep:]}"


def compact(value: object, limit: int = 300) -> str:
    """A JSON value on one short line (strings unquoted)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def seconds(value: float) -> str:
    """A duration as people read it: ``0.3 s``, ``42.0 s``, ``1m 42s``."""
    if value < 60:
        return f"{value:.1f} s"
    return format_duration(value).lstrip("+")
