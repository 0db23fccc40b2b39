"""The maintenance detector: boot id, true boot time and offset compared between two checks."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from runbook.check.runner import remember
from runbook.check.statefile import (
    MAINTENANCE,
    Seen,
    detect,
    load,
    locked,
    save,
    update,
)
from runbook.check.states import State
from runbook.check.verdict import Finding, HostCheck, offset_text
from runbook.errors import StateFileError

BOOT = 1_700_000_000.0
A, B = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


def seen(at: float, offset: float, boot_id: str | None = A, btime: float | None = BOOT) -> Seen:
    return Seen(checked_at=at, offset=offset, boot_id=boot_id, boot_time=btime)


def test_first_check_and_a_steady_host_detect_nothing() -> None:
    assert detect(None, seen(0, 0.0), 2.0) is None
    assert detect(seen(0, 0.001), seen(300, -0.002), 2.0) is None
    assert detect(seen(0, 0.0), seen(300, 0.0, btime=BOOT + 1), 2.0) is None  # btime's whole seconds


def test_a_new_boot_id_is_a_reboot() -> None:
    assert detect(seen(0, 0.0), seen(300, 0.0, boot_id=B), 2.0) == "boot id changed"


def test_a_paused_vm_lost_time_its_boot_clock_did_not_count() -> None:
    # paused 30 s: the clock and the boot clock both stopped, so btime stays and the offset grows
    reason = detect(seen(0, 0.0), seen(300, 30.0), 2.0)
    assert reason == "the clock lost 30.0 s that its boot clock did not count"


def test_fixing_the_clock_is_not_a_suspension() -> None:
    # a step of +10800 s moves btime by as much on a real kernel: true boot stays put
    assert detect(seen(0, 10800.0), seen(300, 0.001, btime=BOOT + 10800), 2.0) is None
    # the lab's btime stays when its fake clock is stepped: true boot moves earlier, never later
    assert detect(seen(0, 10800.0), seen(300, 0.001), 2.0) is None


def test_without_btime_a_grown_lag_counts() -> None:
    assert detect(seen(0, 0.0, btime=None), seen(300, 30.0, btime=None), 2.0) == (
        "the clock fell 30.0 s further behind"
    )
    assert detect(seen(0, 30.0, btime=None), seen(300, 0.0, btime=None), 2.0) is None


def test_a_detection_is_held_then_dropped() -> None:
    first = update(seen(0, 0.0), seen(100, 0.0, boot_id=B), 2.0, 3600)
    assert (first.detected, first.detected_at) == ("boot id changed", 100)
    held = update(first, seen(400, 0.0, boot_id=B), 2.0, 3600)
    assert (held.detected, held.detected_at) == ("boot id changed", 100)
    gone = update(held, seen(3700, 0.0, boot_id=B), 2.0, 3600)
    assert gone.detected is None and gone.detected_at is None


def test_remember_adds_the_warning_and_writes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "check.json"

    def check(boot_id: str, at: float) -> HostCheck:
        found = HostCheck("web01", [Finding(State.OK, offset_text(0.0))], offset=0.0, boot_id=boot_id)
        found.boot_time, found.checked_at = BOOT, at
        return found

    first = check(A, 100)
    remember([first, HostCheck("gone", [Finding(State.UNKNOWN, "unreachable")])], path, jump=2, hold=60)
    assert first.state is State.OK
    assert set(load(path)) == {"web01"}  # an unmeasured host leaves no entry
    second = check(B, 200)
    remember([second], path, jump=2, hold=60)
    assert second.state is State.WARNING
    assert second.findings[-1].text == f"{MAINTENANCE} (boot id changed)"
    document = json.loads(path.read_text())
    assert document["version"] == 1 and document["hosts"]["web01"]["detected"] == "boot id changed"
    assert [p.name for p in path.parent.iterdir() if not p.name.endswith(".lock")] == ["check.json"]


def test_unreadable_files_say_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "check.json"
    path.write_text("{not json")
    with pytest.raises(StateFileError, match=r"is unreadable .*move it away to start afresh"):
        load(path)
    path.write_text('{"hosts": []}')
    with pytest.raises(StateFileError, match="has no hosts map"):
        load(path)
    path.write_text('{"hosts": {"a": {"checked_at": "x", "offset": 0}, "b": {"checked_at": 1, "offset": 2}}}')
    assert load(path) == {"b": Seen(1, 2)}


def test_save_is_atomic_and_leaves_no_temporary_file_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "check.json"
    save(path, {"h": seen(1, 0.5)})
    before = path.read_text()
    with pytest.raises(TypeError):
        save(path, {"h": Seen(1, 0.5, boot_id=object())})  # type: ignore[arg-type]
    assert path.read_text() == before
    assert sorted(os.listdir(tmp_path)) == ["check.json"]


def test_concurrent_checks_lose_no_host(tmp_path: Path) -> None:
    path = tmp_path / "check.json"

    def add(name: str) -> None:
        with locked(path) as entries:
            entries[name] = seen(1, 0.0)

    threads = [threading.Thread(target=add, args=(f"h{i}",)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(load(path)) == {f"h{i}" for i in range(20)}
