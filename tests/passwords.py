"""A pytest plugin (``-p passwords``): no password a test put in the environment outlives that test."""

from __future__ import annotations

import pytest

import runbook.notify.settings as notify_settings


@pytest.fixture(autouse=True)
def forget_passwords_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runbook takes password variables out of the environment and remembers them: per test."""
    monkeypatch.delenv(notify_settings.PASSWORD_VARIABLE, raising=False)
    monkeypatch.setattr(notify_settings, "_from_environment", {})
