"""A lab host as the controller sees it, and running commands on it over real OpenSSH."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.scenario import Scenario


@dataclass(frozen=True)
class LabHost:
    """One lab host: ``ssh -F ssh_config name`` logs in as ``user``."""

    name: str
    address: str
    profile: str
    user: str
    namespace: str
    ssh_config: Path
    scenario: Scenario = field(default_factory=Scenario)

    def ssh_argv(self, command: str) -> list[str]:
        return ["ssh", "-F", str(self.ssh_config), self.name, command]

    def run(
        self, command: str, *, timeout: float = 30.0, input: str | None = None, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` on the host with the real ssh client; output is text."""
        return subprocess.run(
            self.ssh_argv(command), input=input, capture_output=True, text=True, timeout=timeout, check=check
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": self.address,
            "profile": self.profile,
            "user": self.user,
            "namespace": self.namespace,
            "scenario": self.scenario.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], ssh_config: Path) -> LabHost:
        return cls(
            name=data["name"],
            address=data["address"],
            profile=data["profile"],
            user=data["user"],
            namespace=data["namespace"],
            ssh_config=ssh_config,
            scenario=Scenario.from_dict(data["scenario"]),
        )
