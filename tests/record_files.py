"""Finding the records a run wrote: by when they were written, not by name.

Two runs in the same second get unique names (``HOST-…Z.md``, then ``HOST-…Z-2.md``), and
``-2`` sorts before ``.md``: the newest record is the one written last.
"""

from __future__ import annotations

from pathlib import Path


def newest_last(path: Path) -> tuple[int, str]:
    """A sort key putting the record written last at the end."""
    return path.stat().st_mtime_ns, path.name
