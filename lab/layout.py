"""Where the lab keeps things: the lab directory (per checkout) and the cache (per machine)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV = "RUNBOOK_LAB_CACHE"
PACKAGE_DIR = Path(__file__).resolve().parent
FILES_DIR = PACKAGE_DIR / "files"
STANDINS_DIR = PACKAGE_DIR / "standins"


def cache_dir() -> Path:
    """``$RUNBOOK_LAB_CACHE`` or ``~/.cache/runbook-lab``: downloads, builds and templates."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured).resolve() if configured else Path.home() / ".cache" / "runbook-lab"


@dataclass(frozen=True)
class LabLayout:
    """Paths under one lab directory (``.lab`` by default); all absolute."""

    root: Path

    @classmethod
    def at(cls, root: Path) -> LabLayout:
        return cls(root.resolve())

    @property
    def ssh_config(self) -> Path:
        return self.root / "ssh_config"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def identity(self) -> Path:
        return self.root / "id_ed25519"

    @property
    def lab_json(self) -> Path:
        return self.root / "lab.json"

    @property
    def runbook_yaml(self) -> Path:
        return self.root / "runbook.yaml"

    @property
    def ntp_dir(self) -> Path:
        return self.root / "ntp"

    @property
    def hosts_dir(self) -> Path:
        return self.root / "hosts"

    def host_dir(self, name: str) -> Path:
        return self.hosts_dir / name

    def written_files(self) -> tuple[Path, ...]:
        """Every file ``up`` writes directly under the lab directory."""
        return (
            self.ssh_config,
            self.known_hosts,
            self.identity,
            self.identity.with_suffix(".pub"),
            self.lab_json,
            self.runbook_yaml,
        )
