"""QMP, QEMU's JSON control protocol on a UNIX socket: pause and resume a VM for real."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

from lab.errors import LabError

TIMEOUT = 10.0


class Qmp:
    """One QMP session: greeting read, capabilities negotiated."""

    def __init__(self, path: Path) -> None:
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._socket.settimeout(TIMEOUT)
        try:
            self._socket.connect(str(path))
        except OSError as error:
            self._socket.close()
            raise LabError(f"cannot reach the VM's QMP socket {path}: {error}") from error
        self._reader = self._socket.makefile("r", encoding="utf-8")
        self._read()  # greeting
        self.execute("qmp_capabilities")

    def _read(self) -> dict[str, Any]:
        line = self._reader.readline()
        if not line:
            raise LabError("QEMU closed its QMP socket")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def execute(self, command: str) -> Any:
        """Run ``command``; its ``return`` value (events that arrive meanwhile are skipped)."""
        self._socket.sendall(json.dumps({"execute": command}).encode() + b"\n")
        while True:
            reply = self._read()
            if "error" in reply:
                raise LabError(f"QMP {command}: {reply['error'].get('desc', reply['error'])}")
            if "return" in reply:
                return reply["return"]

    def close(self) -> None:
        self._reader.close()
        self._socket.close()


def suspend(path: Path, seconds: float) -> float:
    """Stop the VM's CPUs and clocks (QMP ``stop``), wait ``seconds``, resume (``cont``).

    Returns how long it was really paused. The guest's clock does not count the pause.
    """
    session = Qmp(path)
    try:
        session.execute("stop")
        started = time.monotonic()
        try:
            time.sleep(seconds)  # the pause itself is the point: nothing to poll
        finally:
            session.execute("cont")
        paused = time.monotonic() - started
        status = session.execute("query-status")
        if not status.get("running"):
            raise LabError(f"the VM did not resume after QMP cont: {status}")
        return paused
    finally:
        session.close()
