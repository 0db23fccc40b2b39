"""Per-daemon knowledge: the one-shot tools' output parsers and the sync checks.

``ntpd_classic`` (ntpdate 4.2.x, ``ntpd -gq``), ``ntpsec`` (ntpdig and its ntpdate wrapper),
``chrony`` (chronyc and ``chronyd -q``), ``timesyncd`` (timedatectl). Every parser is pure and
returns a ``SyncRun`` or a state; offsets are seconds, positive when the host was behind.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SyncRun:
    """What one one-shot sync command did.

    ``kind``: ``synced``, ``socket-in-use`` (ntpd holds UDP 123), ``no-server``, ``busy`` (the
    daemon runs: chronyd -q aborts), ``error``. ``method`` is ``step`` or ``adjust``
    (slew) when known; ``offset`` is the correction (+ = the host was behind).
    """

    kind: str
    message: str
    method: str | None = None
    address: str | None = None
    offset: float | None = None


def lines_of(text: str) -> list[str]:
    """The non-blank lines of ``text``, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]
