"""Invoke tasks of the lab: ``invoke lab.up``, ``lab.down``, ``lab.status``, ``lab.setup``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from lab.errors import LabError
from lab.lab import Lab
from lab.layout import cache_dir
from lab.profiles import PROFILES
from lab.setup import INSTALL_SCRIPT, check_prerequisites
from lab.template import ensure_template
from lab.vm.images import ImageRecipe, ensure_image
from runbook.durations import format_duration, parse_duration
from runbook.errors import DurationError

DIR_HELP = "lab directory (default .lab)"


@task(
    help={
        "profile": "profile of the hosts added now: centos6 (default), debian12, el9, ubuntu, alpine; "
        "VMs: vm-ntp, vm-ntpsec, vm-chrony, vm-timesyncd",
        "hosts": "number of hosts lab1..labN (default 1)",
        "offset": "clock offset, e.g. -3h, +90s, +40y, 0 (default: the profile's, -3h)",
        "daemon": "time daemon: stopped, running or crashed (stale pid file)",
        "no_ntpdate": "ntpdate not installed",
        "site_down": "website not answering",
        "user": "login user: root or sudo",
        "second_daemon": "another time daemon installed but disabled: ntpd or chronyd (per profile)",
        "no_rtc": "no hardware clock (hwclock fails)",
        "requiretty": "sudoers has 'Defaults requiretty' (CentOS 6.0-6.7): no sudo without a terminal",
        "uptime": "time the hosts have been up by their clock (btime in /proc/stat), e.g. 2h (default 40d)",
        "dir": DIR_HELP,
    }
)
def up(
    c: Context,
    profile: str = "centos6",
    hosts: int = 1,
    offset: str | None = None,
    daemon: str | None = None,
    no_ntpdate: bool = False,
    site_down: bool = False,
    user: str | None = None,
    second_daemon: str | None = None,
    no_rtc: bool = False,
    requiretty: bool = False,
    uptime: str | None = None,
    dir: str = ".lab",
) -> None:
    """Start lab hosts (re-run safely: running hosts stay) and write ssh_config, lab.json, runbook.yaml."""
    knobs: dict[str, Any] = {}
    for name, value in (
        ("offset", offset),
        ("daemon", daemon),
        ("user", user),
        ("second_daemon", second_daemon),
        ("uptime", uptime),
    ):
        if value is not None:
            knobs[name] = value
    if no_ntpdate:
        knobs["ntpdate"] = False
    if site_down:
        knobs["site"] = "down"
    if no_rtc:
        knobs["rtc"] = False
    if requiretty:
        knobs["requiretty"] = True
    lab = Lab(Path(dir))
    started = time.monotonic()
    try:
        lab_hosts = lab.up(profile=profile, hosts=hosts, **knobs)
    except LabError as error:
        raise Exit(f"lab.up: {error}", code=1) from error
    layout = lab.layout
    print(f"{len(lab_hosts)} lab host(s) up in {time.monotonic() - started:.2f} s")
    for host in lab_hosts:
        print(f"  {host.name:<6} {host.address:<13} {host.profile:<8} user {host.user}")
    print(f"  ssh -F {layout.ssh_config} lab1 date")
    print(f"  invoke -f {layout.runbook_yaml} post-maint --host lab1")
    print(f"  details: {layout.lab_json}")


@task(help={"dir": DIR_HELP})
def down(c: Context, dir: str = ".lab") -> None:
    """Stop every lab host and the NTP server; remove namespaces, veths, mounts and lab files."""
    started = time.monotonic()
    try:
        Lab(Path(dir)).down()
    except LabError as error:
        raise Exit(f"lab.down: {error}", code=1) from error
    print(f"lab down in {time.monotonic() - started:.2f} s")


@task(help={"dir": DIR_HELP})
def status(c: Context, dir: str = ".lab") -> None:
    """List lab hosts: processes, SSH, fake clock offset, scenario."""
    state = Lab(Path(dir)).status()
    if not state.hosts:
        print("lab is down")
        return
    answers = "answers" if state.ntp_answers else "DOES NOT ANSWER"
    print(f"NTP server {state.ntp_server}: {answers}")
    for item in state.hosts:
        host = item.host
        offset = "?" if item.clock_offset is None else format_duration(item.clock_offset)
        ssh = "ssh ok" if item.ssh else "SSH DOWN"
        scenario = host.scenario
        print(
            f"  {host.name:<6} {host.address:<13} {host.profile:<8} {ssh:<8} processes {item.processes:<3} "
            f"clock {offset:<14} daemon {scenario.daemon}, site {scenario.site}, "
            f"ntpdate {'yes' if scenario.ntpdate else 'no'}, user {host.user}"
        )


@task
def setup(c: Context) -> None:
    """Check root, packages, overlayfs (saying what to run if missing); build templates and VM images."""
    started = time.monotonic()
    try:
        check_prerequisites()
        for profile in PROFILES.values():
            if profile.vm is None:
                print(f"template {profile.name}: {ensure_template(profile, cache_dir())}")
        for profile in PROFILES.values():
            if profile.vm is not None:
                _build_image(profile.name, profile.vm)
    except LabError as error:
        raise Exit(f"lab.setup: {error}\n(on a fresh Debian 12: sh {INSTALL_SCRIPT})", code=1) from error
    print(f"lab ready in {time.monotonic() - started:.2f} s")


def _build_image(name: str, recipe: ImageRecipe) -> None:
    """Build one VM profile's image; a failure (say, bullseye gone from the registry) is reported and the
    other profiles stay usable."""
    built = time.monotonic()
    try:
        image = ensure_image(recipe, cache_dir())
    except LabError as error:
        print(f"image {name}: NOT BUILT, profile {name} is unavailable: {error}")
        return
    print(f"image {name}: {image.disk} ({time.monotonic() - built:.1f} s)")


@task(help={"host": "the VM host to pause, e.g. lab1", "duration": "how long, e.g. 30s, 2m", "dir": DIR_HELP})
def suspend(c: Context, host: str, duration: str = "30s", dir: str = ".lab") -> None:
    """Pause a VM host for real (QMP stop), wait, resume it (cont): its clock falls behind by as much."""
    try:
        seconds = parse_duration(duration)
    except DurationError as error:
        raise Exit(f"lab.suspend: --duration {duration!r}: {error}", code=2) from error
    if seconds <= 0:
        raise Exit(f"lab.suspend: --duration must be positive, not {duration!r}", code=2)
    try:
        paused = Lab(Path(dir)).suspend(host, seconds)
    except LabError as error:
        raise Exit(f"lab.suspend: {error}", code=1) from error
    print(f"{host} paused for {paused:.1f} s and resumed")


lab = Collection("lab", up, down, status, setup, suspend)
