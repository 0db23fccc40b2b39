"""The snapshot's parsers on tool outputs (tests/cases/{ss,findmnt,systemctl_units,systemctl_unit_files,
chkconfig_list,rc_status}).

Each case names its source: a recording (the tool, where, which version) or, where the tool could not
be run here, a listing written in its layout (its ``source`` says so and why). Service cases compare
only the fields they list.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from recorded_cases import Parser, case_files, check_case

from runbook.snapshot import parsers
from runbook.snapshot.model import HostState, Service
from runbook.snapshot.reading import sockets_of, with_programs


def _services(found: dict[str, Service], fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: {f: getattr(s, f) for f in fields} for name, s in found.items()}


class _Expected(dict[str, Any]):
    """A service map whose missing names read as None (a case can say a unit is left out)."""

    def __missing__(self, key: str) -> None:
        return None


def _proc_net(name: str) -> Parser:
    return lambda text, _rc: [
        asdict(s) for s in parsers.parse_proc_net(text, name[:3], v6=name.endswith("6"))
    ]


PARSERS: dict[str, Parser] = {
    "ss": lambda text, _rc: [asdict(s) for s in parsers.parse_ss(text)],
    "findmnt": lambda text, _rc: [asdict(m) for m in parsers.parse_findmnt(text)],
    "systemctl_units": lambda text, _rc: _Expected(
        _services(parsers.parse_systemd_units(text), ("running", "failed"))
    ),
    "systemctl_unit_files": lambda text, _rc: _Expected(parsers.parse_unit_files(text)),
    "proc_net_tcp": _proc_net("tcp"),
    "proc_net_tcp6": _proc_net("tcp6"),
    "proc_net_udp": _proc_net("udp"),
    "proc_net_udp6": _proc_net("udp6"),
    "chkconfig_list": lambda text, _rc: _Expected(parsers.parse_chkconfig_list(text)),
    "rc_status": lambda text, _rc: _Expected(
        _services(parsers.parse_rc_status(text), ("running", "enabled", "failed"))
    ),
}


@pytest.mark.parametrize("path", case_files(PARSERS), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_recorded_case(path: Path) -> None:
    check_case(PARSERS, path)


def test_every_case_names_its_source() -> None:
    for path in case_files(PARSERS):
        assert json.loads(path.read_text()).get("source"), path


def test_programs_from_ss_join_the_proc_net_sockets() -> None:
    cases = Path(__file__).parent.parent / "cases"
    tables = {
        f"net.{name}": json.loads((cases / f"proc_net_{name}" / "lab-centos6.json").read_text())["input"]
        for name in ("tcp", "tcp6", "udp", "udp6")
    }
    ss = json.loads((cases / "ss" / "lab-centos6-ntpd-httpd-sshd.json").read_text())["input"]
    state = with_programs(HostState(sockets=sockets_of(tables)), ss)
    assert {s.label for s in state.sockets if s.port in {22, 80}} == {
        "tcp 0.0.0.0:22 (sshd)",
        "tcp [::]:22 (sshd)",
        "tcp 0.0.0.0:80 (httpd)",
    }
    assert all(s.program == "ntpd" for s in state.sockets if s.port == 123)


def test_ss_without_the_netid_column_or_with_a_wildcard_port_leaves_the_line_out() -> None:
    text = "LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\ntcp LISTEN 0 128 *:* *:*\n"
    assert parsers.parse_ss(text) == []


def test_proc_mounts_with_df_sizes_and_escaped_spaces() -> None:
    mounts = "/dev/sdb1 /srv/my\\040data ext4 ro,relatime 0 0\nproc /proc proc rw 0 0\n"
    df = (
        "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sdb1 1000 900 100 90% /srv/my data\n"
    )
    [mount] = parsers.parse_proc_mounts(mounts, df)
    assert (mount.target, mount.readonly, mount.size, mount.used) == ("/srv/my data", True, 1024000, 921600)
    assert mount.use_percent == pytest.approx(90.0)


def test_fstab_keeps_what_is_mounted_at_boot() -> None:
    text = (
        "# comment\nUUID=1 / ext4 defaults 0 1\nUUID=2 none swap sw 0 0\n"
        "/dev/sdc1 /backup ext4 noauto 0 0\ntmpfs /scratch tmpfs size=1g 0 0\n"
    )
    assert [e.target for e in parsers.parse_fstab(text)] == ["/", "/scratch"]


def test_sysv_status_codes() -> None:
    text = "httpd 0\nmysqld 1\nsnmpd 3\nodd 4\nfunctions 0\n"
    assert parsers.parse_sysv_status(text) == {
        "httpd": (True, False),
        "mysqld": (False, True),
        "snmpd": (False, False),
    }


def test_rc_links_say_enabled_as_chkconfig_would() -> None:
    text = "\n".join(
        [
            "/etc/rc0.d/K15httpd",
            "/etc/rc3.d/S85httpd",
            "/etc/rc3.d/K74ntpd",
            "/etc/rc1.d/S01single",
            "/etc/rc3.d/README",
        ]
    )
    assert parsers.parse_rc_links(text) == {"httpd": True, "ntpd": False, "single": False}
