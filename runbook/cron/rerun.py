"""Choosing missed jobs to rerun, and the shell command that reruns one as cron would.

A pattern selects an entry when, containing ``*``, ``?`` or ``[``, it fnmatches the
entry's command or id; otherwise when it is a substring of the command or equals the id
(so ``backup`` does not select every job of /etc/cron.d/backup). Empty patterns select
nothing. The command runs the job as its crontab's user (``su -s /bin/sh USER``; root
directly) in a clean environment like cron's: ``SHELL`` (default /bin/sh), ``PATH``
(default /usr/bin:/bin), ``HOME`` (the user's home unless the crontab sets it), ``LOGNAME``
and ``USER``, then every variable the crontab set above the entry; it starts in ``HOME``
and gets the entry's ``%`` text on stdin (else /dev/null). GNU ``timeout`` bounds it
when the host has it (exit 124 when it fired). Every value is quoted with shlex.quote.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from fnmatch import fnmatchcase

from runbook.cron.due import DueJob
from runbook.cron.entries import CronEntry
from runbook.errors import RerunError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_USER = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._-]*\$?")
_GLOB = re.compile(r"[*?\[]")
TIMED_OUT = 124
"""Exit code of GNU ``timeout`` when the limit fired."""


def matches(entry: CronEntry, pattern: str) -> bool:
    """Whether ``pattern`` selects ``entry`` (see the module docstring)."""
    if not pattern:
        return False
    if _GLOB.search(pattern):
        return fnmatchcase(entry.command, pattern) or fnmatchcase(entry.id, pattern)
    return pattern in entry.command or pattern == entry.id


def select(jobs: Sequence[DueJob], patterns: Sequence[str]) -> tuple[list[DueJob], list[str]]:
    """The jobs some pattern selects (in order) and the patterns that selected none."""
    chosen = [job for job in jobs if any(matches(job.entry, pattern) for pattern in patterns)]
    unused = [p for p in patterns if not any(matches(job.entry, p) for job in jobs)]
    return chosen, unused


def job_environment(entry: CronEntry) -> dict[str, str]:
    """Cron's variables for the job (``HOME`` only when the crontab sets it)."""
    env = {"SHELL": "/bin/sh", "PATH": "/usr/bin:/bin"}
    env.update(entry.environment)
    env.update(LOGNAME=entry.user, USER=entry.user)
    return env


def rerun_command(entry: CronEntry, *, timeout: float) -> str:
    """``sh -c '...'`` that reruns ``entry`` now as cron would; raises ``RerunError``."""
    if not _USER.fullmatch(entry.user):
        raise RerunError(f"user {entry.user!r} is not a name su accepts")
    env = job_environment(entry)
    bad = sorted(name for name in env if not _NAME.fullmatch(name))
    if bad:
        raise RerunError(f"variable name(s) {', '.join(map(repr, bad))} cannot be passed safely")
    q = shlex.quote
    pairs = ['HOME="$HOME"'] + [q(f"{name}={value}") for name, value in env.items() if name != "HOME"]
    run = f"env -i {' '.join(pairs)} {q(env['SHELL'])} -c {q(entry.command)}"
    run = f"exec {run} </dev/null" if entry.stdin is None else f"printf %s {q(entry.stdin)} | {run}"
    home = f"HOME={q(env['HOME'])}; " if "HOME" in entry.environment else ""
    inner = f'{home}cd "$HOME" || exit 1; {run}'
    if entry.user == "root":
        switch = f"HOME=~root; export HOME; exec $rb_t /bin/sh -c {q(inner)}"
    else:
        switch = f"exec $rb_t su -s /bin/sh {q(entry.user)} -c {q(inner)}"
    limit = f"timeout -k 10 {max(1, round(timeout))}"
    script = f"rb_t=; if command -v timeout >/dev/null 2>&1; then rb_t={q(limit)}; fi; {switch}"
    return f"sh -c {q(script)}"
