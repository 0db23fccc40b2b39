"""Which commands a run has already rerun on a connection, so no job runs twice in one run."""

from __future__ import annotations

from invoke.context import Context

_RERUN_KEY = "_runbook_reruns"


def already_rerun(c: Context, user: str, command: str) -> bool:
    """Whether this connection has already rerun ``command`` as ``user``."""
    return (user, command.strip()) in c.__dict__.get(_RERUN_KEY, set())


def mark_rerun(c: Context, user: str, command: str) -> None:
    """Note that ``command`` was rerun as ``user`` on this connection."""
    done: set[tuple[str, str]] = c.__dict__.get(_RERUN_KEY, set())
    done.add((user, command.strip()))
    object.__setattr__(c, _RERUN_KEY, done)
