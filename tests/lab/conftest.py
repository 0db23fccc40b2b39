"""Fixtures for end-to-end tests against lab hosts over real OpenSSH (needs root; CI runs as root).

- ``lab`` (session): a ``lab.Lab`` brought up once in a temporary directory with
  ``LAB_SIZE`` centos6 hosts (lab1..labN) and the lab NTP server (``lab.record()["ntp_server"]``);
  everything is torn down at the end of the session. Its files: ``lab.layout.ssh_config``,
  ``lab.layout.runbook_yaml``, ``lab.layout.lab_json``.
- ``lab_host`` (function): a factory ``lab_host(profile="centos6", **scenario) -> LabHost``. Each call
  resets the next lab host (the first call in a test gets lab1, the second lab2, ...) into the profile's
  default scenario changed by the knobs (``offset="-3h"``, ``daemon="stopped"|"running"|"crashed"``,
  ``ntpdate=False``, ``site="down"``, ``user="sudo"``) and returns it: ``host.run("date")`` runs over
  ``ssh -F ssh_config``; ``host.name``, ``host.address``, ``host.user``, ``host.ssh_config``.
- ``vm`` (function): ``vm(profile, **knobs) -> LabHost``, the session's VM host of a VM profile (vm-ntp,
  vm-chrony, ...), booted on first use as the next host after the namespace ones (lab7, lab8, ...) and
  kept for the session (``fresh=True`` reboots it fresh with ``knobs``); see tests/lab/vm_support.py.
- ``real_clock_unchanged`` is checked around the whole session: the lab must never move the machine's clock.

Only one lab can run on a machine at a time: take a ``.lab`` of your own down before running these.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from vm_support import shared_vm, still_in_lab

from lab import Lab, LabHost

LAB_SIZE = 6
OTHER_LAB_WAIT = 240.0  # one lab per machine: wait for another session's lab, under the test timeout
CLOCK_TOLERANCE = 0.5


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    wall, mono = time.time(), time.monotonic()
    the_lab = Lab(tmp_path_factory.mktemp("lab") / ".lab")
    try:
        the_lab.up(profile="centos6", hosts=LAB_SIZE, wait=OTHER_LAB_WAIT)
        yield the_lab
    finally:
        the_lab.down()
    drift = (time.time() - wall) - (time.monotonic() - mono)
    assert abs(drift) < CLOCK_TOLERANCE, (
        f"the machine's real clock moved by {drift:+.3f} s during the lab run"
    )


@pytest.fixture
def lab_host(lab: Lab) -> Callable[..., LabHost]:
    handed_out: list[str] = []

    def make(profile: str = "centos6", **scenario: Any) -> LabHost:
        if len(handed_out) == LAB_SIZE:
            raise RuntimeError(f"a test may use at most {LAB_SIZE} lab hosts")
        name = f"lab{len(handed_out) + 1}"
        handed_out.append(name)
        return lab.reset(name, profile=profile, **scenario)

    return make


@pytest.fixture(scope="session")
def _vm_cache() -> dict[str, LabHost]:
    return {}


@pytest.fixture
def vm(lab: Lab, _vm_cache: dict[str, LabHost]) -> Callable[..., LabHost]:
    def make(profile: str, fresh: bool = False, **knobs: Any) -> LabHost:
        known = _vm_cache.get(profile)
        if fresh and known is not None and still_in_lab(lab, known):
            _vm_cache[profile] = lab.reset(known.name, profile=profile, **knobs)
        return shared_vm(lab, _vm_cache, profile, **knobs)

    return make
