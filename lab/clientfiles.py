"""What the controller uses: ssh_config, known_hosts, lab.json and the runbook's Invoke config."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from lab import network
from lab.host import LabHost
from lab.keys import public_key
from lab.layout import LabLayout
from lab.profiles import get_profile
from lab.template import SUDO_USER

RECORD_DIR = "records"
TIMEZONE = "Asia/Tokyo"


def write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    staged = path.with_name(f".{path.name}.{os.getpid()}")
    staged.write_text(text)
    staged.chmod(mode)
    staged.replace(path)


def ssh_config_text(layout: LabLayout, hosts: list[LabHost]) -> str:
    blocks = [
        f"Host {host.name}\n"
        f"    HostName {host.address}\n"
        f"    User {host.user}\n"
        "    Port 22\n"
        f"    IdentityFile {layout.identity}\n"
        "    IdentitiesOnly yes\n"
        f"    UserKnownHostsFile {layout.known_hosts}\n"
        "    StrictHostKeyChecking yes\n"
        "    BatchMode yes\n"
        "    ConnectTimeout 5\n"
        "    LogLevel ERROR\n"
        for host in hosts
    ]
    return "# written by `invoke lab.up`: ssh -F THIS_FILE lab1\n\n" + "\n".join(blocks)


def known_hosts_text(hosts: list[LabHost], host_keys: dict[str, Path]) -> str:
    return "".join(f"{host.name},{host.address} {public_key(host_keys[host.name])}\n" for host in hosts)


def lab_record(layout: LabLayout, hosts: list[LabHost], password: str) -> dict[str, Any]:
    """The content of lab.json."""
    profiles = {host.profile for host in hosts}
    return {
        "lab_dir": str(layout.root),
        "ntp_server": network.NTP_SERVER,
        "ssh_config": str(layout.ssh_config),
        "known_hosts": str(layout.known_hosts),
        "identity_file": str(layout.identity),
        "sudo_user": SUDO_USER,
        "sudo_password": password,
        "hosts": [host.to_dict() for host in hosts],
        "profiles": {name: _profile_record(name) for name in sorted(profiles)},
    }


def _profile_record(name: str) -> dict[str, Any]:
    profile = get_profile(name)
    return {
        "description": profile.description,
        "backup_command": profile.backup.command,
        "evidence_file": profile.backup.evidence_file,
        "check_command": profile.backup.check_command,
        "max_age": profile.backup.max_age,
        "site_url": profile.site_url,
    }


def runbook_config(layout: LabLayout, hosts: list[LabHost], password: str) -> dict[str, Any]:
    """The ``runbook:`` section aiming the runbook at this lab (backup and site: the first host's profile)."""
    profile = get_profile(hosts[0].profile)
    return {
        "runbook": {
            "ntp_servers": [network.NTP_SERVER],
            "ssh_config": str(layout.ssh_config),
            "urls": [profile.site_url],
            "backup": {
                "command": profile.backup.command,
                "evidence_file": profile.backup.evidence_file,
                "check_command": profile.backup.check_command,
                "max_age": profile.backup.max_age,
            },
            "sudo_password": password,
            "record_dir": RECORD_DIR,
            "timezone": TIMEZONE,
        }
    }


def yaml_text(data: dict[str, Any], indent: int = 0) -> str:
    """Block-style YAML for nested dicts of JSON scalars and lists (JSON scalars are valid YAML)."""
    lines: list[str] = []
    pad = " " * indent
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines.append(yaml_text(value, indent + 2).rstrip("\n"))
        else:
            lines.append(f"{pad}{key}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def write_client_files(
    layout: LabLayout, hosts: list[LabHost], host_keys: dict[str, Path], password: str
) -> None:
    """(Re)write ssh_config, known_hosts, lab.json and runbook.yaml for ``hosts``."""
    write_atomically(layout.ssh_config, ssh_config_text(layout, hosts))
    write_atomically(layout.known_hosts, known_hosts_text(hosts, host_keys))
    write_atomically(layout.lab_json, json.dumps(lab_record(layout, hosts, password), indent=2) + "\n", 0o600)
    header = "# Invoke config written by `invoke lab.up`: invoke -f THIS_FILE post-maint --host lab1\n"
    write_atomically(layout.runbook_yaml, header + yaml_text(runbook_config(layout, hosts, password)), 0o600)
