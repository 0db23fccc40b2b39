"""Profiles: what a distribution's lab host looks like (files, time setup, backup, site, scenario).

A profile is a ``Profile`` registered in ``PROFILES``; its files live in ``lab/files/<name>/``
and are laid over the machine's /etc, /usr and /var in a cached, read-only template layer.
Adding a distribution means one module here, one files tree and one line in ``PROFILES``.
"""

from __future__ import annotations

from lab.errors import LabError
from lab.profiles.alpine import ALPINE
from lab.profiles.base import BackupSpec, Profile
from lab.profiles.centos6 import CENTOS6
from lab.profiles.debian12 import DEBIAN12
from lab.profiles.el9 import EL9
from lab.profiles.ubuntu import UBUNTU
from lab.vm.profiles import VM_PROFILES

PROFILES: dict[str, Profile] = {
    profile.name: profile for profile in (CENTOS6, DEBIAN12, EL9, UBUNTU, ALPINE, *VM_PROFILES)
}

__all__ = ["PROFILES", "BackupSpec", "Profile", "get_profile"]


def get_profile(name: str) -> Profile:
    """The registered profile ``name``; LabError lists the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise LabError(
            f"unknown lab profile {name!r}: known profiles are {', '.join(sorted(PROFILES))}"
        ) from None
