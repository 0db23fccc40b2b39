"""libfaketime build, its environment and the clock state file, exercised with real processes."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from standin_support import (
    CACHE_DIR,
    faketime_library,
    real_clock_unchanged,
    require_root,
    run_without_settime,
)

from lab.faketime import (
    LIBFAKETIME_VERSION,
    FaketimeBuildError,
    ensure_libfaketime,
    faketime_env,
    format_clock_offset,
    parse_clock_offset,
    read_clock_offset,
    write_clock_offset,
)


def faked_env(state_file: Path) -> dict[str, str]:
    return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **faketime_env(state_file, faketime_library())}


def test_second_call_returns_the_cached_library_at_once() -> None:
    first = faketime_library()
    start = time.monotonic()
    again = ensure_libfaketime(CACHE_DIR)
    assert again == first
    assert again.name == "libfaketime.so.1"
    assert time.monotonic() - start < 0.05


def test_concurrent_callers_build_once_from_a_cached_sdist(tmp_path: Path) -> None:
    faketime_library()
    sdist = f"libfaketime-{LIBFAKETIME_VERSION}.tar.gz"
    shutil.copyfile(CACHE_DIR / sdist, tmp_path / sdist)
    with ThreadPoolExecutor(4) as pool:
        paths = set(pool.map(lambda _: ensure_libfaketime(tmp_path), range(4)))
    assert len(paths) == 1
    library = paths.pop()
    assert library.is_file()
    leftovers = (".build-", ".download-", ".libfaketime.so")
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(leftovers)]


def test_missing_compiler_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FaketimeBuildError, match=r"gcc and make.*apt-get install"):
        ensure_libfaketime(tmp_path / "cache")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("-3h\n", -10800.0),
        ("+90\n", 90.0),
        ("-10799.999974\n", -10799.999974),
        ("# comment\n+1.5m\n", 90.0),
        ("+2d", 172800.0),
        ("+0.000000\n", 0.0),
    ],
)
def test_offset_lines_read_like_libfaketime(text: str, seconds: float) -> None:
    assert parse_clock_offset(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["@2024-01-01 00:00:00\n", "2024-01-01 00:00:00\n", "", "# only\n"])
def test_non_offsets_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_clock_offset(text)


def test_written_offsets_carry_a_sign(tmp_path: Path) -> None:
    state = tmp_path / "clock.rc"
    write_clock_offset(state, 0)
    assert state.read_text() == "+0.000000\n" == format_clock_offset(0.0)
    write_clock_offset(state, -10800)
    assert read_clock_offset(state) == -10800.0


def test_a_faked_process_runs_three_hours_behind(tmp_path: Path) -> None:
    require_root()
    state = tmp_path / "clock.rc"
    write_clock_offset(state, -3 * 3600)
    seen = run_without_settime("date -u +%s", env=faked_env(state))
    assert seen.returncode == 0, seen.stderr
    assert int(seen.stdout) - time.time() == pytest.approx(-10800, abs=2)


def test_setting_the_clock_rewrites_the_state_file_and_not_the_real_clock(tmp_path: Path) -> None:
    require_root()
    state = tmp_path / "clock.rc"
    write_clock_offset(state, -3 * 3600)
    env = faked_env(state)
    with real_clock_unchanged():
        wanted = int(time.time()) + 1000
        stepped = run_without_settime(f"date -u -s @{wanted}", env=env)
        assert stepped.returncode == 0, stepped.stderr
        assert read_clock_offset(state) == pytest.approx(1000, abs=2)
        assert state.read_text().rstrip("\n").startswith("+")
        later = run_without_settime("date -u +%s", env=env)
        assert int(later.stdout) - time.time() == pytest.approx(1000, abs=2)
        without_library = run_without_settime(f"date -u -s @{wanted}", env={"PATH": env["PATH"]})
        assert without_library.returncode != 0
        assert "Operation not permitted" in without_library.stderr


def test_python_clock_settime_is_faked_and_sshd_is_skipped(tmp_path: Path) -> None:
    require_root()
    state = tmp_path / "clock.rc"
    write_clock_offset(state, 0)
    env = faked_env(state)
    script = "import time; time.clock_settime(time.CLOCK_REALTIME, time.time() - 60); print(int(time.time()))"
    with real_clock_unchanged():
        moved = run_without_settime(f"python3 -c '{script}'", env=env)
    assert moved.returncode == 0, moved.stderr
    assert int(moved.stdout) - time.time() == pytest.approx(-60, abs=2)
    assert read_clock_offset(state) == pytest.approx(-60, abs=1)
    assert env["FAKETIME_SKIP_CMDS"] == "sshd"
    assert Path(env["LD_PRELOAD"]).name == "libfaketime.so.1"
