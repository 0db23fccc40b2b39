"""Lab hosts: servers just back from maintenance, on this machine, reached over real SSH.

``Lab(root).up(profile, hosts, **knobs)`` starts them, ``reset(name, **knobs)`` puts one back into a
scenario, ``suspend(name, seconds)`` pauses a VM host (profiles ``vm-*``, lab/vm), ``status()`` and
``down()``. See docs/lab.md.
"""

from __future__ import annotations

from lab.errors import LabError
from lab.host import LabHost
from lab.lab import HostState, Lab, LabStatus
from lab.scenario import Scenario

__all__ = ["HostState", "Lab", "LabError", "LabHost", "LabStatus", "Scenario"]
