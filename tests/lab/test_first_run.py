"""docs/first-run.md, command by command, against a lab host: what a new operator types works.

Each ```sh block runs on the controller in a fresh HOME, each ```sh server block as root on the
host, in the page's order. The page's example names are swapped for the lab's: the server's
address, the NTP server, a loopback mail server and this checkout.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from notify_servers import Inbox, smtp_server

from lab import Lab, LabHost

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "first-run.md"
FENCE = re.compile(r"^```(sh|sh server)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
pytestmark = pytest.mark.lab


def blocks() -> list[tuple[str, str]]:
    found = FENCE.findall(PAGE.read_text())
    assert found, "docs/first-run.md has no sh blocks"
    return [(kind, body) for kind, body in found]


def as_new_user(home: Path, body: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``body`` in bash, ``home`` mounted over /root: OpenSSH reads the passwd entry's home, not $HOME."""
    script = shlex.quote(body)
    inner = f"mount --bind {shlex.quote(str(home))} /root && cd /root && exec bash -euo pipefail -c {script}"
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", inner],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_every_command_of_first_run_works(lab: Lab, lab_host: Callable[..., LabHost], tmp_path: Path) -> None:
    host = lab_host(offset="-3h", daemon="stopped", user="sudo")
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    shutil.copy(lab.layout.identity, home / ".ssh" / "id_ed25519")
    (home / ".ssh" / "id_ed25519").chmod(0o600)
    password = lab.record()["sudo_password"]
    env = {
        "HOME": str(home),
        "PATH": os.environ["PATH"],
        "LANG": "C.UTF-8",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    inbox = Inbox()
    with smtp_server(inbox) as port:
        swaps = {
            "203.0.113.10": host.address,
            "ntp.nict.jp": str(lab.record()["ntp_server"]),
            "localhost:25": f"127.0.0.1:{port}",
            "install --quiet ./runbook": f"install --quiet {shlex.quote(str(ROOT))}",
        }
        for kind, text in blocks():
            body = text
            for example, real in swaps.items():
                body = body.replace(example, real)
            if kind == "sh server":
                done = host.run(
                    f"sudo -S -p '' sh -euc {shlex.quote(body)}", input=password + "\n", timeout=60
                )
            else:
                done = as_new_user(home, body, env)
            assert done.returncode == 0, f"{kind} block failed:\n{body}\n{done.stdout}\n{done.stderr}"
            if "post-maint" in body and "--quiet" in body:
                assert done.stdout == "", done.stdout  # the cron run after the fix: nothing to say
    records = sorted((home / "maintenance" / "records").glob("web1-*.md"), key=lambda p: p.stat().st_mtime)
    assert len(records) == 3  # the dry run, the fix, the quiet run
    assert "the NTP socket is in use, exiting" in records[1].read_text()
    assert lab.clock_offset(host.name) == pytest.approx(0, abs=1)
    subjects = [message["Subject"] for message in inbox.messages()]
    assert subjects[0] == "runbook: web1 DRY RUN" and subjects[1].startswith("runbook: web1 FIXED"), subjects
    assert subjects[2] == "runbook: web1 OK", subjects
