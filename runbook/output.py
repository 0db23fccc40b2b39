"""Command output kept within a limit: its head and tail, and how much was dropped between.

A command that prints for an hour, or a huge evidence file, would otherwise fill the
controller's memory, then one journal line and the records. ``CappedText`` keeps the first
``HEAD`` and last ``TAIL`` characters of a stream as it arrives; ``CappedRemote`` is Fabric's
remote runner storing its output that way; ``cap`` trims a finished string alike.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import IO

from fabric.runners import Remote

HEAD = 64 * 1024
TAIL = 64 * 1024
"""Characters kept from the start and the end of each stream of a command."""
_NOTE_ROOM = 100
"""More than the dropped note's length: a capped text is not capped again."""


def dropped_note(count: int) -> str:
    """The line that stands for what was dropped."""
    return f"\n[… runbook dropped {count:,} characters of output here …]\n"


class CappedText:
    """The head and tail of a text that arrives in pieces, and the count dropped between."""

    def __init__(self, head: int = HEAD, tail: int = TAIL) -> None:
        self.head_size, self.tail_size = head, tail
        self.head = ""
        self.tail: deque[str] = deque()
        self.tail_length = 0
        self.dropped = 0

    def add(self, piece: str) -> None:
        if len(self.head) < self.head_size:
            room = self.head_size - len(self.head)
            self.head += piece[:room]
            piece = piece[room:]
        if not piece:
            return
        self.tail.append(piece)
        self.tail_length += len(piece)
        while self.tail_length > self.tail_size:
            excess = self.tail_length - self.tail_size
            first = self.tail[0]
            if len(first) <= excess:
                self.tail.popleft()
                self.tail_length -= len(first)
                self.dropped += len(first)
            else:
                self.tail[0] = first[excess:]
                self.tail_length -= excess
                self.dropped += excess

    def text(self) -> str:
        middle = dropped_note(self.dropped) if self.dropped else ""
        return self.head + middle + "".join(self.tail)


def cap(text: str, head: int = HEAD, tail: int = TAIL) -> str:
    """``text`` within the limit (unchanged when it fits, so capping twice changes nothing)."""
    if len(text) <= head + tail + _NOTE_ROOM:
        return text
    kept = CappedText(head, tail)
    kept.add(text)
    return kept.text()


class CappedRemote(Remote):  # type: ignore[misc]  # fabric has no type hints
    """Fabric's remote runner keeping only the head and tail of stdout and stderr.

    Watchers see the output until the limit is first reached (a sudo prompt comes first).
    """

    def _handle_output(
        self, buffer_: list[str], hide: bool, output: IO[str], reader: Callable[..., bytes]
    ) -> None:
        kept = CappedText()
        for data in self.read_proc_output(reader):
            if not hide:
                self.write_our_output(stream=output, string=data)
            kept.add(data)
            if not kept.dropped:
                buffer_.append(data)
                if self.watchers:
                    self.respond(buffer_)
        buffer_[:] = [kept.text()]
