"""systemd-timesyncd through ``timedatectl``: its state and a bounded wait for synchronisation."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from runbook.daemons import lines_of


@dataclass(frozen=True)
class Timedatectl:
    """``timedatectl show``: NTP wanted (``NTP``), synchronised (``NTPSynchronized``), the raw fields."""

    ntp: bool | None
    synchronised: bool | None
    fields: tuple[tuple[str, str], ...] = ()


def _yes(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get((value or "").strip())


def parse_timedatectl(text: str) -> Timedatectl:
    """``KEY=VALUE`` lines of ``timedatectl show``; unknown values stay ``None``."""
    split = (line.partition("=") for line in lines_of(text))
    pairs = tuple((key.strip(), value.strip()) for key, sep, value in split if sep)
    fields = dict(pairs)
    return Timedatectl(
        ntp=_yes(fields.get("NTP")), synchronised=_yes(fields.get("NTPSynchronized")), fields=pairs
    )


def wait_command(seconds: int) -> str:
    """Poll ``timedatectl show -p NTPSynchronized --value`` once a second until ``yes``, at most ``seconds``.

    Prints the last answer and the number of waits (``waited=N``).
    """
    script = f"""i=0
while :; do
  v=$(timedatectl show -p NTPSynchronized --value 2>&1)
  if [ "$v" = yes ] || [ "$i" -ge {int(seconds)} ]; then break; fi
  i=$((i + 1)); sleep 1
done
echo "NTPSynchronized=$v"; echo "waited=$i"
"""
    return f"sh -c {shlex.quote(script)}"
