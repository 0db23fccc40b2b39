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

    from runbook.testing import fake_host

    names = []
    for step in runbook.default_steps():
        assert isinstance(step, Task)
        result = step(fake_host(), dry_run=True)
        assert result.step == step.name, f"{step.name} records its results as {result.step}"
        assert result.title == step.title, step.name
        names.append(step.name)
    assert len(set(names)) == len(names)


def test_every_error_is_a_runbook_error_and_the_builtin_it_is_like() -> None:
    import runbook.errors as errors

    builtin_kind = {
        "UsageError": ValueError,
        "SettingsError": ValueError,
        "DurationError": ValueError,
        "HostSelectionError": ValueError,
        "RecordError": ValueError,
        "StateFileError": ValueError,
        "HostUnavailable": ConnectionError,
        "SudoRefused": PermissionError,
        "ProbeError": RuntimeError,
        "ClockUnreadable": RuntimeError,
        "CronError": ValueError,
        "ScheduleError": ValueError,
        "RerunError": ValueError,
        "NTPUnavailable": ConnectionError,
    }
    classes = {
        name: value
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == errors.__name__
    }
    assert set(classes) == set(errors.__all__)
    for name, cls in classes.items():
        assert issubclass(cls, runbook.RunbookError), name
        assert getattr(runbook, name) is cls, f"{name} is not importable from runbook"
        assert name in errors.__doc__, f"{name} is missing from the tree in runbook/errors.py"
        if name in builtin_kind:
            assert issubclass(cls, builtin_kind[name]), name
    assert issubclass(runbook.FleetInterrupted, KeyboardInterrupt)
    assert not issubclass(runbook.FleetInterrupted, Exception)
