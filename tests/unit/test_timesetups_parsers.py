"""Time-setup parsers on recorded outputs (tests/cases), fuzzing, and probe outputs of each setup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from recorded_cases import case_files, check_case
from timesetup_fakes import setup_probe

from runbook import facts
from runbook.daemons.chrony import (
    makestep_warning,
    parse_chronyd_q,
    parse_makestep,
    parse_reply,
    parse_tracking,
)
from runbook.daemons.drivers import SERVICES
from runbook.daemons.ntpd_classic import parse_ntpd_gq
from runbook.daemons.ntpsec import parse_ntpdig
from runbook.daemons.timesyncd import parse_timedatectl
from runbook.facts.daemons import service_arguments
from runbook.probe import split_sections
from runbook.timeservice import parse_is_enabled, parse_rc_update


def _makestep(text: str, rc: int | None) -> Any:
    found = parse_makestep(text)
    return {**asdict(found), "warns": makestep_warning(found) is not None}


PARSERS: dict[str, Callable[[str, int | None], Any]] = {
    "ntpdig": lambda text, rc: asdict(parse_ntpdig(text, rc)),
    "ntpd_gq": lambda text, rc: asdict(parse_ntpd_gq(text, rc)),
    "chronyc_tracking": lambda text, rc: asdict(parse_tracking(text, rc)),
    "chronyc_reply": lambda text, rc: dict(zip(("code", "said"), parse_reply(text, rc), strict=True)),
    "chronyd_q": lambda text, rc: asdict(parse_chronyd_q(text, rc)),
    "makestep": _makestep,
    "timedatectl": lambda text, rc: asdict(parse_timedatectl(text)),
    "is_enabled": lambda text, rc: {"enabled": parse_is_enabled(text)},
    "rc_update": lambda text, rc: {"services": sorted(parse_rc_update(text))},
}
CASE_FILES = case_files(PARSERS)


def test_every_parser_has_cases() -> None:
    assert {path.parent.name for path in CASE_FILES} == set(PARSERS)


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_case(path: Path) -> None:
    check_case(PARSERS, path)


@settings(max_examples=300, deadline=None)
@given(st.text(), st.one_of(st.none(), st.integers(-5, 300)))
def test_no_parser_raises_on_arbitrary_text(text: str, rc: int | None) -> None:
    for parse in PARSERS.values():
        parse(text, rc)


def test_the_probe_looks_for_every_service_of_every_driver() -> None:
    arguments = service_arguments()
    assert len(arguments) == len(SERVICES) == len(set(arguments))
    for service in SERVICES:
        key = f"{service.daemon}:{service.init}:{service.name}:"
        assert f"{key}{service.program}:{service.pid_file}" in arguments


@pytest.mark.parametrize(
    ("init", "daemon", "service", "label"),
    [
        ("systemd", "chronyd", "chronyd", "chronyd (systemd unit chronyd)"),
        ("systemd", "ntpsec", "ntpsec", "ntpsec (systemd unit ntpsec)"),
        (
            "systemd",
            "systemd-timesyncd",
            "systemd-timesyncd",
            "systemd-timesyncd (systemd unit systemd-timesyncd)",
        ),
        ("openrc", "chronyd", "chronyd", "chronyd (OpenRC service chronyd)"),
        ("sysv", "ntpd", "ntpd", "ntpd (SysV service ntpd)"),
    ],
)
def test_each_setup_is_detected(init: str, daemon: str, service: str, label: str) -> None:
    found = facts.parse_facts(split_sections(setup_probe(init, {daemon: (service, True, True)})), None, None)
    chosen = found.service()
    assert chosen is not None and chosen[0].label == label and chosen[1].running and chosen[1].enabled
    assert found.header()["init"] == init and found.header()["daemon"] == daemon


def test_chrony_sync_state_comes_from_tracking() -> None:
    found = facts.parse_facts(
        split_sections(setup_probe("systemd", {"chronyd": ("chronyd", True, True)}, tracking="synced")),
        None,
        None,
    )
    assert found.sync.synchronised and found.sync.peer == "10.205.0.1" and found.sync.source == "chronyc"
    assert found.makestep is not None and found.makestep.limit == 3


def test_timesyncd_sync_state_comes_from_timedatectl() -> None:
    probe = setup_probe("systemd", {"systemd-timesyncd": ("systemd-timesyncd", True, True)}, ntp_synced=False)
    found = facts.parse_facts(split_sections(probe), None, None)
    assert found.sync.synchronised is False and found.sync.source == "timedatectl"


def test_both_installed_one_enabled_drives_the_enabled_one() -> None:
    probe = setup_probe("systemd", {"chronyd": ("chronyd", False, False), "ntpd": ("ntpd", False, True)})
    choice = facts.parse_facts(split_sections(probe), None, None).choice()
    assert choice.service is not None and choice.service.daemon == "ntpd"
    assert choice.note == "chronyd and ntpd installed: driving ntpd, the one enabled at boot"


def test_two_enabled_is_a_conflict() -> None:
    probe = setup_probe("systemd", {"chronyd": ("chronyd", True, True), "ntpd": ("ntpd", False, True)})
    found = facts.parse_facts(split_sections(probe), None, None)
    choice = found.choice()
    assert found.service() is None and choice.conflict is not None
    assert "chronyd and ntpd are all enabled at boot" in choice.conflict
    assert "systemctl stop ntpd" in choice.conflict


def test_none_enabled_prefers_the_running_one() -> None:
    probe = setup_probe("openrc", {"chronyd": ("chronyd", False, False), "ntpd": ("ntpd", True, False)})
    choice = facts.parse_facts(split_sections(probe), None, None).choice()
    assert choice.service is not None and choice.service.daemon == "ntpd" and "running" in (choice.note or "")


def test_ntpdate_flavour_and_rtc() -> None:
    found = facts.parse_facts(
        split_sections(
            setup_probe("systemd", {"ntpsec": ("ntpsec", True, True)}, flavour="ntpsec", rtc=False)
        ),
        None,
        None,
    )
    assert found.ntpdate_flavour == "ntpsec" and found.rtc is False
