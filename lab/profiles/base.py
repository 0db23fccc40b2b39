"""The shape of a profile: a distribution's lab host, described as data plus three small functions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.errors import LabError
from lab.scenario import Scenario

if TYPE_CHECKING:
    from lab.vm.images import ImageRecipe


@dataclass(frozen=True)
class BackupSpec:
    """The profile's backup job and how the runbook tells that it ran."""

    command: str
    evidence_file: str
    check_command: str
    max_age: float


@dataclass(frozen=True)
class Profile:
    """One distribution's lab host.

    ``file_trees`` are folders under ``lab/files`` copied into the template in order;
    ``absent`` are paths the machine has but this distribution lacks (hidden in the template);
    ``populate(template, cache)`` adds built or downloaded files to the template;
    ``seed_files(scenario, now)`` gives per-host files (path -> text) written before the host starts;
    ``start_script(scenario)`` is shell run inside the host before sshd to reach the scenario;
    ``second_daemons`` are the values of the ``second_daemon`` knob it supports besides ``none``;
    ``vm`` is the disk image recipe of a VM profile (lab/vm): its hosts are virtual machines, not
    namespaces, and ``populate``/``start_script`` are not used.
    """

    name: str
    description: str
    file_trees: tuple[str, ...]
    absent: tuple[str, ...]
    scenario: Scenario
    backup: BackupSpec
    populate: Callable[[Path, Path], None]
    seed_files: Callable[[Scenario, float], Mapping[str, str]]
    start_script: Callable[[Scenario], str]
    site_url: str = "http://{address}/"
    second_daemons: tuple[str, ...] = ()
    vm: ImageRecipe | None = None

    def scenario_for(self, **knobs: Any) -> Scenario:
        """The profile's default scenario with ``knobs``; LabError for a knob value it cannot host."""
        if self.vm is not None:
            refused = sorted(
                k for k, v in knobs.items() if k != "offset" and v != getattr(self.scenario, k, v)
            )
            if refused:
                raise LabError(
                    f"profile {self.name} is a VM in its stock state: only --offset can be set, "
                    f"not {', '.join(refused)}"
                )
        scenario = self.scenario.with_knobs(**knobs)
        if scenario.second_daemon not in ("none", *self.second_daemons):
            offered = ", ".join(self.second_daemons) or "none"
            raise LabError(
                f"profile {self.name} cannot add second_daemon={scenario.second_daemon!r}: "
                f"it offers {offered}"
            )
        return scenario
