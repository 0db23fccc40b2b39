"""Every namespace profile in one lab (the VM profiles have their own tests): 20 mixed-profile hosts
added to the session lab; their sites and backups.

How fast they come up is measured by the benchmark and reported in docs/lab.md, not asserted here.

The hosts stay up until the session's ``lab`` fixture takes the lab down (its teardown and the lifecycle
tests check that ``down`` leaves nothing).
"""

from __future__ import annotations

import urllib.request

import pytest

from lab import Lab
from lab.profiles import PROFILES

pytestmark = pytest.mark.lab
PER_PROFILE = 4
NAMESPACE_PROFILES = [name for name, profile in PROFILES.items() if profile.vm is None]


def test_twenty_mixed_profile_hosts_come_up_and_apply(lab: Lab) -> None:
    count = len(lab.hosts())
    for profile in NAMESPACE_PROFILES:
        count += PER_PROFILE
        lab.up(profile=profile, hosts=count)
    assert set(lab.record()["profiles"]) >= set(NAMESPACE_PROFILES)
    added = lab.hosts()[-len(NAMESPACE_PROFILES) * PER_PROFILE :]
    assert {host.profile for host in added} == set(NAMESPACE_PROFILES)
    for host in added[::PER_PROFILE]:
        with urllib.request.urlopen(f"http://{host.address}/", timeout=5) as page:
            assert page.status == 200
        done = host.run(
            "/usr/local/bin/backup-check 93600; /usr/local/bin/backup.sh >/dev/null && "
            "/usr/local/bin/backup-check 93600"
        )
        assert done.returncode == 0, (host.profile, done.stdout, done.stderr)
