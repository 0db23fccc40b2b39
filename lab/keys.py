"""SSH keys: the lab's client key and each host's real host key (kept in the host's state dir)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from lab.errors import LabError


def ensure_keys(private_keys: list[Path], comment: str) -> None:
    """Create the ed25519 keys that do not exist yet (ssh-keygen runs in parallel)."""
    missing = [key for key in private_keys if not key.is_file()]
    for key in missing:
        key.parent.mkdir(parents=True, exist_ok=True)
    running = [
        (
            key,
            subprocess.Popen(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            ),
        )
        for key in missing
    ]
    for key, process in running:
        output, _ = process.communicate()
        if process.returncode != 0:
            raise LabError(f"ssh-keygen for {key} failed: {output.decode(errors='replace').strip()}")


def public_key(private_key: Path) -> str:
    """The ``TYPE BASE64`` part of a key's .pub file (no comment)."""
    kind, blob, *_ = private_key.with_suffix(".pub").read_text().split()
    return f"{kind} {blob}"
