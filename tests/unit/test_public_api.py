"""The package root re-exports every public name, and only those."""

from __future__ import annotations

import runbook


def test_all_is_sorted_and_complete() -> None:
    public = {name for name in vars(runbook) if not name.startswith("_") or name == "__version__"}
    modules = {name for name in public if type(getattr(runbook, name)).__name__ == "module"}
    assert sorted(runbook.__all__) == runbook.__all__
    assert set(runbook.__all__) == public - modules - {"annotations", "version", "PackageNotFoundError"}


def test_steps_are_fabric_tasks_named_as_they_record() -> None:
    from fabric.tasks import Task

    for step in runbook.default_steps():
        assert isinstance(step, Task)
