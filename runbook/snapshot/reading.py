"""The snapshot fact unit: ``HostState`` from the probe's sections, and the fragment's arguments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from runbook import shell
from runbook.facts.host import parse_boot_id
from runbook.shell import section_rc
from runbook.snapshot import parsers
from runbook.snapshot.model import HostState, Output, Service, Socket


def state_arguments(commands: tuple[str, ...]) -> tuple[str, ...]:
    """``commands.sh``'s arguments: the operator's commands (each run as ``sh -c COMMAND``)."""
    return commands


def commands_command(commands: tuple[str, ...], token: str) -> str:
    """The operator's ``commands`` as one command of their own (sections ``op.N`` carrying ``token``),
    for those a snapshot has that the probe did not run."""
    script = (
        shell.prelude()
        + "rb_tok=$1; shift\nexec </dev/null 2>&1\n"
        + shell.read("runbook.snapshot", "commands.sh")
    )
    return shell.command(script, [shell.checked_token(token), *commands, "--"], "runbook-commands")


def parse_outputs(sections: Mapping[str, str]) -> tuple[Output, ...]:
    """The ``op.N`` sections in order, until the first missing one."""
    outputs = []
    for index in range(len(sections)):
        name = f"op.{index}"
        if name not in sections:
            break
        outputs.append(Output(sections[name], section_rc(sections.get(f"{name}.rc"))))
    return tuple(outputs)


def parse_state(sections: Mapping[str, str]) -> HostState:
    """The host's state from the sections of ``state.sh`` (and ``init`` of ``host.sh``)."""
    init = sections.get("init", "").strip() or "unknown"
    if "mounts.findmnt" in sections and section_rc(sections.get("mounts.findmnt.rc")) == 0:
        mounts = parsers.parse_findmnt(sections["mounts.findmnt"])
    else:
        mounts = parsers.parse_proc_mounts(sections.get("mounts.proc", ""), sections.get("df", ""))
    return HostState(
        init=init,
        kernel=sections.get("kernel", "").strip() or None,
        boot_id=parse_boot_id(sections.get("boot_id", "")),
        boot_time=parsers.parse_number(sections.get("btime", "")),
        services=services_of(init, sections),
        sockets=sockets_of(sections),
        mounts=tuple(mounts),
        fstab=tuple(parsers.parse_fstab(sections.get("fstab", ""))),
        outputs=parse_outputs(sections),
    )


def services_of(init: str, sections: Mapping[str, str]) -> dict[str, Service]:
    """Services as the host's init system reports them."""
    if init == "systemd":
        units = parsers.parse_systemd_units(sections.get("units", ""))
        enabled = parsers.parse_unit_files(sections.get("unit_files", ""))
        names = sorted(set(units) | {name for name, on in enabled.items() if on})
        return {
            name: Service(
                name,
                running=units[name].running if name in units else False,
                enabled=enabled.get(name),
                failed=units[name].failed if name in units else False,
            )
            for name in names
        }
    if init == "openrc":
        return parsers.parse_rc_status(sections.get("rc_status", ""))
    if init == "sysv":
        if "rc.links" in sections:
            enabled = parsers.parse_rc_links(sections["rc.links"])
        else:
            enabled = parsers.parse_chkconfig_list(sections.get("chkconfig", ""))
        states = parsers.parse_sysv_status(sections.get("sysv.status", ""))
        return {
            name: Service(name, running=states[name][0], enabled=enabled.get(name), failed=states[name][1])
            for name in sorted(states)
        }
    return {}


def sockets_of(sections: Mapping[str, str]) -> tuple[Socket, ...]:
    """The listening sockets: ``ss -tuln``'s, else those of the ``net.tcp``, ``net.tcp6``,
    ``net.udp`` and ``net.udp6`` sections (/proc/net, on hosts without ss)."""
    if "sockets" in sections:
        return tuple(parsers.parse_ss(sections["sockets"]))
    found: set[Socket] = set()
    for name in ("tcp", "tcp6", "udp", "udp6"):
        found.update(parsers.parse_proc_net(sections.get(f"net.{name}", ""), name[:3], v6=name.endswith("6")))
    return tuple(sorted(found, key=lambda s: (s.proto, s.port, s.address)))


def with_programs(state: HostState, ss_output: str) -> HostState:
    """``state`` whose sockets name their programs, from ``ss -tulnp``'s output."""
    programs = {(s.proto, s.address, s.port): s.program for s in parsers.parse_ss(ss_output) if s.program}
    sockets = tuple(
        replace(s, program=programs.get((s.proto, s.address, s.port), s.program)) for s in state.sockets
    )
    return replace(state, sockets=sockets)
