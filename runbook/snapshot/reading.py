"""The snapshot fact unit: ``HostState`` from the probe's sections, and the fragment's arguments."""

from __future__ import annotations

from collections.abc import Mapping

from runbook.shell import section_rc
from runbook.snapshot import parsers
from runbook.snapshot.model import HostState, Output, Service


def state_arguments(commands: tuple[str, ...]) -> tuple[str, ...]:
    """``state.sh``'s arguments: the operator's commands (each run as ``sh -c COMMAND``)."""
    return commands


def parse_state(sections: Mapping[str, str]) -> HostState:
    """The host's state from the sections of ``state.sh`` (and ``init`` of ``host.sh``)."""
    init = sections.get("init", "").strip() or "unknown"
    if "mounts.findmnt" in sections and section_rc(sections.get("mounts.findmnt.rc")) == 0:
        mounts = parsers.parse_findmnt(sections["mounts.findmnt"])
    else:
        mounts = parsers.parse_proc_mounts(sections.get("mounts.proc", ""), sections.get("df", ""))
    outputs = []
    for index in range(len(sections)):
        name = f"op.{index}"
        if name not in sections:
            break
        outputs.append(Output(sections[name], section_rc(sections.get(f"{name}.rc"))))
    return HostState(
        init=init,
        kernel=sections.get("kernel", "").strip() or None,
        boot_id=sections.get("boot_id", "").strip() or None,
        boot_time=parsers.parse_number(sections.get("btime", "")),
        services=services_of(init, sections),
        sockets=tuple(parsers.parse_ss(sections.get("sockets", ""))),
        mounts=tuple(mounts),
        fstab=tuple(parsers.parse_fstab(sections.get("fstab", ""))),
        outputs=tuple(outputs),
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
        enabled = parsers.parse_chkconfig_list(sections.get("chkconfig", ""))
        states = parsers.parse_sysv_status(sections.get("sysv.status", ""))
        return {
            name: Service(name, running=states[name][0], enabled=enabled.get(name), failed=states[name][1])
            for name in sorted(states)
        }
    return {}
