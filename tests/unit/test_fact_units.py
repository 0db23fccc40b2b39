"""The fact registry: one unit per HostFacts field, the probe assembled from it, arguments in order."""

from __future__ import annotations

from dataclasses import fields

from runbook.daemons.drivers import DRIVERS
from runbook.facts import HostFacts
from runbook.facts.units import FACTS, fragments
from runbook.probe import probe_arguments, probe_script
from runbook.settings import build_settings
from runbook.shell import read


def test_every_field_but_the_clock_sample_is_one_fact() -> None:
    names = [fact.field for fact in FACTS]
    assert len(names) == len(set(names))
    assert set(names) == {f.name for f in fields(HostFacts)} - {"clock"}


def test_the_probe_is_its_start_and_every_fragment_once() -> None:
    script = probe_script()
    parts = fragments()
    assert len(parts) == len({(p.package, p.name) for p in parts})
    for part in parts:
        assert script.count(read(part.package, part.name)) == 1
    assert {f"{d.fragment}" for d in DRIVERS} <= {p.name for p in parts if p.package == "runbook.daemons"}


def test_each_fragment_with_arguments_gets_them_ended_by_a_separator() -> None:
    settings = build_settings({"backup": {"command": "b", "evidence_file": "/var/x", "check_command": "c"}})
    arguments = probe_arguments(settings, clock_loop=True, token="ab")
    assert arguments[:3] == ("ab", "all", "loop")
    takers = [p for p in fragments() if p.arguments is not None]
    assert arguments.count("--") == len(takers)
    backup = arguments.index("/var/x")
    assert arguments[backup : backup + 3] == ("/var/x", "c", "--")
    assert arguments[-1] == "--" and fragments()[-1].name == "fragment.sh"  # cron takes the rest
