"""libfaketime for lab hosts: a cached build that fakes setting the clock too, and its clock state file.

Debian's libfaketime is built without ``FAKE_SETTIME``, so ``date -s`` or ``clock_settime`` would reach the
kernel. The PyPI sdist ``libfaketime`` carries the upstream C source; we build it with ``FAKE_SETTIME``
(setting the clock rewrites the state file instead) and ``FAKE_STATELESS`` (no per-process shared memory in
/dev/shm, which sshd's seccomp sandbox does not tolerate).

The state file (``FAKETIME_TIMESTAMP_FILE``, the lab's ``clock.rc``) holds one line, read again by every
faked process at most ``FAKETIME_CACHE_DURATION`` seconds later. libfaketime 3.0.1 reads the first line that
is longer than one character and does not start with a space, ``#`` or ``;``:

- ``+N`` / ``-N`` (fractions allowed) is an offset in seconds from the real clock; a unit letter anywhere in
  the line multiplies it (``m`` minutes, else ``h``, ``d``, ``y`` = 365 days), e.g. ``-3h``;
- ``@YYYY-MM-DD hh:mm:ss`` starts the clock at that time, ``%`` follows a file's mtime;
- anything else is read as a frozen absolute time, and a line that does not parse makes libfaketime
  print an error and **exit the faked process** - so an offset must always carry its sign (``+0``, not ``0``).

After a successful ``clock_settime``/``settimeofday`` (with ``FAKETIME_UPDATE_TIMESTAMP_FILE=1``) the library
rewrites the file in place as ``printf("%+f\\n", new_time - real_time)``, e.g. ``-10799.999974``: a signed
offset in seconds, six decimals. This module writes the same format (atomically) and reads the offset forms.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LIBFAKETIME_VERSION = "3.0.1"
LIBRARY_NAME = "libfaketime.so.1"
BUILD_CFLAGS = "-DFAKE_SETTIME -DFAKE_STATELESS"
_BUILD_DIR = f"libfaketime-{LIBFAKETIME_VERSION}-settime-stateless"
_PIP_DOWNLOAD = "download --no-deps --no-binary :all: --disable-pip-version-check"
_SOURCE_SUBDIR = Path("libfaketime", "vendor", "libfaketime", "src")
_OFFSET_LINE = re.compile(r"^[+-]\d*\.?\d*(?:[eE][+-]?\d+)?")
_UNIT_SECONDS = (("m", 60.0), ("h", 3600.0), ("d", 86400.0), ("y", 365 * 86400.0))


class FaketimeBuildError(RuntimeError):
    """libfaketime could not be downloaded or built; the message says what to install or check."""


def ensure_libfaketime(cache_dir: Path) -> Path:
    """Path of ``libfaketime.so.1`` built with ``FAKE_SETTIME`` and ``FAKE_STATELESS``, building it once.

    The sdist and the library are kept under ``cache_dir``; a later call returns at once. Concurrent callers
    (threads or processes) serialise on a lock file, and the library appears atomically.
    """
    target = cache_dir / _BUILD_DIR / LIBRARY_NAME
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _locked(cache_dir / ".libfaketime.lock"):
        if not target.is_file():
            _build(cache_dir, target)
    return target


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build(cache_dir: Path, target: Path) -> None:
    missing = [tool for tool in ("gcc", "make") if shutil.which(tool) is None]
    if missing:
        raise FaketimeBuildError(
            f"building libfaketime needs {' and '.join(missing)}: run `apt-get install gcc make libc6-dev`"
        )
    sdist = _download_sdist(cache_dir)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".build-") as work:
        with tarfile.open(sdist) as archive:
            archive.extractall(work, filter="data")
        roots = list(Path(work).iterdir())
        if len(roots) != 1 or not (roots[0] / _SOURCE_SUBDIR).is_dir():
            raise FaketimeBuildError(f"{sdist.name} does not hold the C source at {_SOURCE_SUBDIR}")
        source = roots[0] / _SOURCE_SUBDIR
        made = subprocess.run(
            ["make", f"FAKETIME_COMPILE_CFLAGS={BUILD_CFLAGS}", LIBRARY_NAME],
            cwd=source,
            capture_output=True,
            text=True,
            check=False,
        )
        if made.returncode != 0:
            raise FaketimeBuildError(
                f"`make {LIBRARY_NAME}` failed in {source} (exit {made.returncode}); a C toolchain is "
                f"needed: `apt-get install gcc make libc6-dev`\n{_tail(made.stdout + made.stderr)}"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(f".{LIBRARY_NAME}.{os.getpid()}")
        shutil.copyfile(source / LIBRARY_NAME, staged)
        staged.chmod(0o755)
        staged.replace(target)


def _download_sdist(cache_dir: Path) -> Path:
    name = f"libfaketime-{LIBFAKETIME_VERSION}.tar.gz"
    sdist = cache_dir / name
    if sdist.is_file():
        return sdist
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".download-") as work:
        fetched = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                *_PIP_DOWNLOAD.split(),
                f"libfaketime=={LIBFAKETIME_VERSION}",
                "-d",
                work,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        downloaded = Path(work, name)
        if fetched.returncode != 0 or not downloaded.is_file():
            raise FaketimeBuildError(
                f"`pip download libfaketime=={LIBFAKETIME_VERSION}` (sdist) failed: check that "
                f"{sys.executable} has pip and reaches PyPI, or put {name} into {cache_dir}\n"
                f"{_tail(fetched.stdout + fetched.stderr)}"
            )
        downloaded.replace(sdist)
    return sdist


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def faketime_env(state_file: Path, library: Path) -> dict[str, str]:
    """Environment for a process that reads and sets the fake clock kept in ``state_file``.

    sshd is skipped so its own log and key timestamps stay real; its sessions get these variables again
    (e.g. via sshd ``SetEnv``). ``LD_PRELOAD`` replaces any preload the caller had.
    """
    return {
        "LD_PRELOAD": str(library),
        "FAKETIME_TIMESTAMP_FILE": str(state_file),
        "FAKETIME_UPDATE_TIMESTAMP_FILE": "1",
        "FAKETIME_CACHE_DURATION": "1",
        "FAKETIME_SKIP_CMDS": "sshd",
    }


def format_clock_offset(offset: float) -> str:
    """The state-file line for ``offset`` seconds (negative = behind the real clock), libfaketime-style."""
    return f"{offset:+f}\n"


def write_clock_offset(state_file: Path, offset: float) -> None:
    """Set the fake clock to ``offset`` seconds from the real one; readers never see a half-written file."""
    staged = state_file.with_name(f".{state_file.name}.{os.getpid()}")
    staged.write_text(format_clock_offset(offset))
    staged.chmod(0o644)
    staged.replace(state_file)


def parse_clock_offset(text: str) -> float:
    """Offset in seconds from a state file's text, read the way libfaketime reads an offset line.

    Raises ValueError for an absolute time (``@...``, a date) or a file without a setting.
    """
    for line in text.splitlines():
        if len(line) <= 1 or line[0] in " #;":
            continue
        number = _OFFSET_LINE.match(line)
        if number is None:
            raise ValueError(f"not a clock offset (absolute times are not supported here): {line!r}")
        digits = number.group()
        value = float(digits) if any(c.isdigit() for c in digits) else 0.0
        for letter, seconds in _UNIT_SECONDS:
            if letter in line:
                return value * seconds
        return value
    raise ValueError("no clock setting in the state file")


def read_clock_offset(state_file: Path) -> float:
    """The fake clock's offset in seconds from the real clock, from ``state_file``."""
    return parse_clock_offset(state_file.read_text())
