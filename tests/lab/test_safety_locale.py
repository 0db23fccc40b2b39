"""A host whose sessions speak Japanese: the runbook still reads it, because it parses under LC_ALL=C."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from test_post_maint import host_record, post_maint, steps_of

from lab import Lab, LabHost

pytestmark = pytest.mark.lab


def test_japanese_locale_host_is_read_and_fixed(
    lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path
) -> None:
    host = lab_host(offset="-3h", daemon="stopped", lang="ja_JP.UTF-8")
    said = host.run("date").stdout
    assert re.search("[年月日曜]", said), said

    done = post_maint(lab, tmp_path, host.name)
    assert done.returncode == 0, done.stdout + done.stderr
    steps = steps_of(host_record(tmp_path, host.name))
    assert steps["check_date"]["data"]["offset"] == pytest.approx(10800, abs=5)
    assert steps["restart_daemon"]["data"]["stop"] == "failed"
    assert steps["one_shot_sync"]["data"]["fallback"] is True
    assert steps["verify"]["outcome"] == "ok"
    assert lab.clock_offset(host.name) == pytest.approx(0, abs=1)
