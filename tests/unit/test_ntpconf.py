"""ntpd/ntpsec configurations that can never select a system peer (tests/cases/ntp_conf)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from recorded_cases import case_files, check_case

from runbook import ntpconf


def parse_ntp_conf(text: str, rc: int | None) -> dict[str, Any]:
    family = "ntpsec" if "/etc/ntpsec/" in text else "ntpd"
    sources = ntpconf.parse_sources(text, family)
    assert sources is not None
    return {**sources.__dict__, "never_selects": ntpconf.never_selects(sources, family) is not None}


PARSERS = {"ntp_conf": parse_ntp_conf}


@pytest.mark.parametrize("path", case_files(PARSERS), ids=lambda path: path.stem)
def test_recorded_case(path: Path) -> None:
    check_case(PARSERS, path)


def test_the_message_names_the_file_the_count_and_the_fix() -> None:
    sources = ntpconf.parse_sources(
        "/etc/ntpsec/ntp.conf:tos minclock 4 minsane 3\n/etc/ntpsec/ntp.conf:server a\n", "ntpsec"
    )
    message = ntpconf.never_selects(sources, "ntpsec")
    assert message is not None
    assert "/etc/ntpsec/ntp.conf has 1 server but `tos minsane 3` needs at least 3" in message
    assert "tos minclock 1 minsane 1" in message


def test_the_daemon_family_picks_its_own_file() -> None:
    text = "/etc/ntp.conf:server a\n/etc/ntpsec/ntp.conf:tos minsane 3\n/etc/ntpsec/ntp.conf:server a\n"
    assert ntpconf.parse_sources(text, "ntpd") == ntpconf.Sources("/etc/ntp.conf", servers=1)
    assert ntpconf.parse_sources(text, "ntpsec") == ntpconf.Sources(
        "/etc/ntpsec/ntp.conf", servers=1, minsane=3
    )
    assert ntpconf.parse_sources("", "ntpsec") is None
    included = ntpconf.parse_sources(
        "/etc/ntp.conf:tos minsane 3\n/etc/ntp.conf:includefile /etc/ntp.d/x\n", "ntpd"
    )
    assert ntpconf.never_selects(included, "ntpd") is None
