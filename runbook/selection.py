"""Choosing steps from the command line: ``--only STEP`` and ``--skip STEP``, by the names records use.

A step left out is still recorded, as skipped by choice. A step that needs another one (its
``needs``: ``verify`` needs ``check_date``'s first measurement) keeps it under ``--only``, and
``--skip`` of a needed step is refused while a step that needs it runs.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from runbook.engine import Step, step_name
from runbook.errors import SettingsError


@dataclass(frozen=True)
class Selection:
    """The steps to run, in runbook order, and why each other step is left out."""

    steps: tuple[Step, ...]
    left_out: dict[str, str]
    kept_for: dict[str, str]  # a step --only did not name -> the step that needs it


def select(steps: Sequence[Step], only: Sequence[str] = (), skip: Sequence[str] = ()) -> Selection:
    """``steps`` narrowed by ``only`` and ``skip``; raises ``SettingsError`` for an unknown or needed name."""
    names = [step_name(step) for step in steps]
    for flag, given in (("--only", only), ("--skip", skip)):
        for name in given:
            if name not in names:
                close = difflib.get_close_matches(name, names, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise SettingsError(f"{flag} {name}: no such step{hint}; steps: {', '.join(names)}")
    needs = {step_name(step): tuple(getattr(step, "needs", ())) for step in steps}
    chosen = set(only) if only else set(names)
    kept_for: dict[str, str] = {}
    for name in [n for n in names if n in chosen]:
        for needed in needs[name]:
            if needed in names and needed not in chosen:
                chosen.add(needed)
                kept_for[needed] = name
    for name in skip:
        dependants = [n for n in names if n in chosen and n not in skip and name in needs[n]]
        if dependants:
            verb, them = ("needs", "it") if len(dependants) == 1 else ("need", "them")
            raise SettingsError(
                f"--skip {name}: {', '.join(dependants)} {verb} it; skip {them} too, or keep {name}"
            )
        chosen.discard(name)
    left_out = {
        name: "skipped by choice (--skip)" if name in skip else "skipped by choice (not in --only)"
        for name in names
        if name not in chosen
    }
    return Selection(tuple(s for s in steps if step_name(s) in chosen), left_out, kept_for)
