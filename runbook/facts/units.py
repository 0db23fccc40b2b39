"""The fact units: each ``HostFacts`` field with the probe fragments that read it and its parser.

``FACTS`` is the one registry: the probe runs each unit's fragments (once each, in this
order, after ``runbook/shell/probe_start.sh``) and ``parse_facts`` fills each field with
its parser. A fragment with arguments gets them followed by ``--`` and consumes them (see
``runbook/probe.py``); the cron fragment comes last and takes the rest. Adding a fact:
write its ``.sh`` (sections ``@@runbook:NAME@@``, printed with ``rb_sec``/``rb_run``), its
parser (pure, never raising) and its ``HostFacts`` field, and add one ``Fact`` here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from runbook import clock
from runbook.cron.fragment import cron_arguments
from runbook.daemons.chrony import parse_makestep
from runbook.daemons.drivers import DRIVERS
from runbook.facts.backup import backup_arguments, parse_backup
from runbook.facts.daemons import driven_family, parse_daemons, parse_sync, service_arguments
from runbook.facts.host import (
    TOOLS,
    parse_boot_id,
    parse_flavour,
    parse_init,
    parse_os,
    parse_tools,
    parse_yes,
)
from runbook.facts.ntpd_options import without_panic_gate
from runbook.facts.types import HostFacts
from runbook.settings import BackupSettings, Settings
from runbook.snapshot.reading import parse_state, state_arguments


@dataclass(frozen=True)
class Fragment:
    """A probe fragment: the ``.sh`` file ``name`` of ``package`` and, if it takes any, its arguments."""

    package: str
    name: str
    arguments: Callable[[Settings], tuple[str, ...]] | None = None


@dataclass(frozen=True)
class Reading:
    """What a fact's parser reads: the probe's sections and the backup settings."""

    sections: Mapping[str, str]
    backup: BackupSettings | None


@dataclass(frozen=True)
class Fact:
    """One ``HostFacts`` field: the fragments that print its sections and its parser."""

    field: str
    fragments: tuple[Fragment, ...]
    parse: Callable[[Reading], Any]


def _section(name: str, parse: Callable[[str], Any]) -> Callable[[Reading], Any]:
    """A parser of section ``name`` (``""`` when absent)."""
    return lambda reading: parse(reading.sections.get(name, ""))


def _present(name: str, parse: Callable[[str], Any]) -> Callable[[Reading], Any]:
    """A parser of section ``name``; ``None`` when the probe did not print it."""
    return lambda reading: parse(reading.sections[name]) if name in reading.sections else None


HOST = Fragment("runbook.facts", "host.sh")
CHRONY = Fragment("runbook.daemons", "chrony.sh")

FACTS: tuple[Fact, ...] = (
    Fact("hostname", (HOST,), _section("hostname", str.strip)),
    Fact("boot_id", (HOST,), _section("boot_id", parse_boot_id)),
    Fact("os", (HOST,), _section("os", parse_os)),
    Fact("init", (HOST,), _section("init", parse_init)),
    Fact(
        "daemons",
        (Fragment("runbook.daemons", "services.sh", lambda _: service_arguments()),),
        lambda r: parse_daemons(r.sections),
    ),
    Fact(
        "sync",
        tuple(Fragment("runbook.daemons", name) for name in dict.fromkeys(d.fragment for d in DRIVERS)),
        lambda r: parse_sync(r.sections, driven_family(r.sections)),
    ),
    Fact(
        "makestep",
        (CHRONY,),
        _present("chrony.conf", parse_makestep),
    ),
    Fact(
        "ntpdate_flavour",
        (Fragment("runbook.facts", "ntpdate.sh"),),
        _section("ntpdate", parse_flavour),
    ),
    Fact("rtc", (Fragment("runbook.facts", "rtc.sh"),), _section("rtc", parse_yes)),
    Fact(
        "ntpd_without_g",
        (Fragment("runbook.facts", "ntpd_options.sh"),),
        _present("ntpd.options", without_panic_gate),
    ),
    Fact(
        "tools",
        (Fragment("runbook.facts", "tools.sh", lambda _: TOOLS),),
        _section("tools", parse_tools),
    ),
    Fact(
        "backup",
        (Fragment("runbook.facts", "backup.sh", backup_arguments),),
        lambda r: None if r.backup is None else parse_backup(r.sections, r.backup),
    ),
    Fact(
        "state",
        (
            Fragment("runbook.snapshot", "state.sh"),
            Fragment("runbook.snapshot", "commands.sh", lambda s: state_arguments(s.before_after.commands)),
        ),
        lambda r: parse_state(r.sections),
    ),
    Fact(
        "cron",
        (
            Fragment("runbook.facts", "cron.sh"),
            Fragment("runbook.cron", "fragment.sh", lambda _: cron_arguments()),
        ),
        _present("cron", str),
    ),
)


def fragments() -> tuple[Fragment, ...]:
    """Every fact's fragments, each once, in ``FACTS`` order."""
    return tuple(dict.fromkeys(fragment for fact in FACTS for fragment in fact.fragments))


def parse_facts(
    sections: Mapping[str, str], backup: BackupSettings | None, sample: clock.ClockSample | None
) -> HostFacts:
    """``HostFacts`` from the probe's sections: each field by its fact's parser."""
    reading = Reading(sections, backup)
    return HostFacts(clock=sample, **{fact.field: fact.parse(reading) for fact in FACTS})
