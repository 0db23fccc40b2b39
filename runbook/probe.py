"""The one read-only probe: the fact units' shell fragments, run as one script once per host.

The script is ``runbook/shell/prelude.sh``, ``runbook/shell/probe_start.sh`` and then every
fact unit's fragments (``runbook.facts.units.FACTS``), each file once. It is the same text
for every host; what differs is passed as arguments: ``TOKEN CRON_SCOPE CLOCK`` (read by
``probe_start.sh``), then, for each fragment that takes some, its arguments and ``--``.

Each fragment prints a header line ``@@runbook:NAME@@TOKEN`` and then its own lines; a command
whose exit code matters is wrapped so that its output is section ``NAME`` and its exit
code section ``NAME.rc``. ``split_sections`` turns the output back into ``{NAME: text}``.
``TOKEN`` is random per probe (``new_token``): host content (an evidence file, a command's
output) cannot guess it, so it cannot fake a section.

The script is POSIX sh; ``probe_command`` runs it in bash when the host has bash, for three
things sh lacks: ``$EPOCHREALTIME`` (clock samples without a process each), ``$EPOCHSECONDS``
and ``/dev/udp`` (ntpd's sync state by one NTP mode 6 query instead of ``ntpq``). A healthy
host's facts come from shell builtins where a file says it all (hostname, OS, pid files,
``/etc/rcN.d`` links): on a loaded fleet every process a host starts is time.

With ``clock_loop`` the script starts by answering clock requests: it prints
``@@runbook:clock@@`` and the method (``epochrealtime`` or ``date``), then answers every
empty line it reads on stdin with the host's time, until stdin ends or a line says how
much of the cron setup to read (``CRON_SCOPES``); then it runs the fragments with stdin
from /dev/null.
"""

from __future__ import annotations

import shlex
from functools import cache

from runbook import shell
from runbook.facts.units import fragments
from runbook.settings import Settings
from runbook.shell import new_token, split_sections

__all__ = [
    "CRON_SCOPES",
    "PROBE_SHELL",
    "clock_command",
    "new_token",
    "probe_arguments",
    "probe_command",
    "probe_script",
    "split_sections",
]

PROBE_SHELL = "bash"
"""The shell the probe asks ``host_timeout`` to start it with when the host has it: the probe
would otherwise start bash itself, one process more on every host."""
CRON_SCOPES = ("all", "jobs", "boot")
"""How much of the cron setup the probe reads: ``all``; or ``boot``, only the boot and the
host's time unless the boot is recent (no window is possible otherwise: the clock does not
lag); or ``jobs``, as ``boot`` plus the cron files (what the ``compare`` step needs: not the
localtime link nor whether cron runs, which only a window needs). The controller's last line
to the clock loop sets it; without a loop, the ``cron`` argument of ``probe_arguments``
(default ``all``)."""


@cache
def probe_script() -> str:
    """The probe as a POSIX shell script (see the module docstring for its arguments and output)."""
    parts = [shell.prelude(), shell.read("runbook.shell", "probe_start.sh")]
    parts.extend(shell.read(fragment.package, fragment.name) for fragment in fragments())
    return "".join(parts)


def probe_arguments(
    settings: Settings, *, clock_loop: bool, token: str = "", cron: str = "all"
) -> tuple[str, ...]:
    """The probe script's arguments.

    Section headers carry ``token`` (hex; ``""`` gives plain headers); the clock header
    read during the clock loop is always plain. ``cron`` is the cron scope (``CRON_SCOPES``)
    when no clock loop line overrides it.
    """
    if cron not in CRON_SCOPES:
        raise ValueError(f"cron scope {cron!r} is not one of {', '.join(CRON_SCOPES)}")
    arguments = [shell.checked_token(token), cron, "loop" if clock_loop else "none"]
    for fragment in fragments():
        if fragment.arguments is not None:
            arguments.extend((*fragment.arguments(settings), "--"))
    return tuple(arguments)


def probe_command(settings: Settings, *, clock_loop: bool, token: str = "", cron: str = "all") -> str:
    """The probe script under ``LC_ALL=C``, run by the login shell itself when that is bash,
    else by bash when the host has it, else by the login shell (POSIX sh)."""
    arguments = shlex.join(probe_arguments(settings, clock_loop=clock_loop, token=token, cron=cron))
    return (
        f"LC_ALL=C; export LC_ALL; rb_s={shlex.quote(probe_script())}\n"
        f"set -- {arguments}\n"
        'if [ -z "${BASH_VERSION:-}" ] && command -v bash >/dev/null 2>&1; '
        'then exec bash -c "$rb_s" runbook-probe "$@"; fi\n'
        'eval "$rb_s"'
    )


def clock_command(samples: int) -> str:
    """Non-interactive clock sampling: a ``clock`` section with ``samples`` ``date +%s.%N`` lines."""
    dates = "; ".join(["date +%s.%N"] * max(1, samples))
    return f"sh -c {shlex.quote(f'echo @@runbook:clock@@; echo date; {dates}')}"
