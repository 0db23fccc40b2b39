"""A real Nagios 4 (Debian's nagios4-core) run by a test: its own config dir, no notifications.

``NagiosEngine(directory, services)`` writes a minimal nagios.cfg and objects (one host per
service, host checks off, notifications off everywhere, a contact that is never notified),
checks them with ``nagios4 -v``, and ``start`` runs ``nagios4`` as PID 1 of a PID namespace of
its own (``unshare --pid --fork --kill-child``), so ``stop`` ends it and its workers with
nothing left behind. ``force_check`` submits ``SCHEDULE_FORCED_SVC_CHECK`` through the command
pipe; ``service_status`` reads what the engine recorded in status.dat.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from lab.waiting import wait_until

NAGIOS = Path("/usr/sbin/nagios4")
SERVICE = "CLOCK"
_WEEK = "\n".join(
    f"    {day} 00:00-24:00"
    for day in ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
)


@dataclass(frozen=True)
class ServiceStatus:
    """A service's state as status.dat has it (``plugin_output`` with ``;`` turned to ``:`` by Nagios)."""

    host: str
    checked: bool
    current_state: int
    plugin_output: str
    performance_data: str


class NagiosEngine:
    def __init__(self, directory: Path, commands: dict[str, str]) -> None:
        """``commands`` maps each host name to the command line of its CLOCK service."""
        self.dir = directory
        self.commands = commands
        self.process: subprocess.Popen[bytes] | None = None
        (directory / "checkresults").mkdir(parents=True, exist_ok=True)
        self.cfg = directory / "nagios.cfg"
        self.cfg.write_text(self._main_config())
        (directory / "objects.cfg").write_text(self._objects())
        (directory / "resource.cfg").write_text("")
        verified = subprocess.run(
            [str(NAGIOS), "-v", str(self.cfg)], capture_output=True, text=True, check=False
        )
        assert verified.returncode == 0, verified.stdout

    def _main_config(self) -> str:
        d = self.dir
        settings = {
            "log_file": d / "nagios.log",
            "cfg_file": d / "objects.cfg",
            "object_cache_file": d / "objects.cache",
            "precached_object_file": d / "objects.precache",
            "resource_file": d / "resource.cfg",
            "status_file": d / "status.dat",
            "status_update_interval": 1,
            "nagios_user": "root",
            "nagios_group": "root",
            "check_external_commands": 1,
            "command_file": d / "nagios.cmd",
            "lock_file": d / "nagios.lock",
            "temp_file": d / "nagios.tmp",
            "temp_path": d,
            "check_result_path": d / "checkresults",
            "query_socket": d / "nagios.qh",
            "retain_state_information": 0,
            "state_retention_file": d / "retention.dat",
            "enable_notifications": 0,
            "enable_event_handlers": 0,
            "execute_host_checks": 0,
            "log_rotation_method": "n",
            "interval_length": 1,
            "max_service_check_spread": 1,
            "check_result_reaper_frequency": 1,
            "enable_flap_detection": 0,
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def _objects(self) -> str:
        parts = [
            "define command {\n    command_name noop\n    command_line /bin/true\n}\n",
            f"define timeperiod {{\n    timeperiod_name always\n    alias always\n{_WEEK}\n}}\n",
            "define contact {\n    contact_name nobody\n    host_notifications_enabled 0\n"
            "    service_notifications_enabled 0\n    host_notification_period always\n"
            "    service_notification_period always\n    host_notification_options n\n"
            "    service_notification_options n\n    host_notification_commands noop\n"
            "    service_notification_commands noop\n}\n",
        ]
        for host, command in self.commands.items():
            parts.append(
                f"define command {{\n    command_name check_{host}\n    command_line {command}\n}}\n"
            )
            parts.append(
                f"define host {{\n    host_name {host}\n    address {host}\n    check_command noop\n"
                "    max_check_attempts 1\n    check_period always\n    notification_period always\n"
                "    notification_interval 0\n    notifications_enabled 0\n    contacts nobody\n}\n"
            )
            parts.append(
                f"define service {{\n    host_name {host}\n    service_description {SERVICE}\n"
                f"    check_command check_{host}\n    max_check_attempts 1\n    check_interval 3600\n"
                "    retry_interval 3600\n    check_period always\n    notification_period always\n"
                "    notification_interval 0\n    notifications_enabled 0\n    contacts nobody\n}\n"
            )
        return "".join(parts)

    def start(self) -> None:
        argv = ["unshare", "--pid", "--fork", "--kill-child", str(NAGIOS), str(self.cfg)]
        with (self.dir / "nagios.out").open("wb") as out:
            self.process = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        pipe = self.dir / "nagios.cmd"
        wait_until(lambda: pipe.exists() and (self.dir / "status.dat").exists(), 30, "nagios4 to start")

    def force_check(self, host: str) -> None:
        now = int(time.time())
        fd = os.open(self.dir / "nagios.cmd", os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, f"[{now}] SCHEDULE_FORCED_SVC_CHECK;{host};{SERVICE};{now}\n".encode())
        finally:
            os.close(fd)

    def service_status(self, host: str) -> ServiceStatus | None:
        """The recorded status of ``host``'s CLOCK service (``None`` before status.dat lists it)."""
        text = (self.dir / "status.dat").read_text(errors="replace")
        for block in text.split("servicestatus {")[1:]:
            fields = dict(
                line.strip().partition("=")[::2] for line in block.split("}")[0].splitlines() if "=" in line
            )
            if fields.get("host_name") == host and fields.get("service_description") == SERVICE:
                return ServiceStatus(
                    host,
                    fields.get("has_been_checked") == "1",
                    int(fields.get("current_state", "3")),
                    fields.get("plugin_output", ""),
                    fields.get("performance_data", ""),
                )
        return None

    def checked(self, host: str, timeout: float = 90) -> ServiceStatus:
        """Wait until the engine recorded a check result for ``host``'s service, and return it."""
        found: list[ServiceStatus] = []

        def done() -> bool:
            status = self.service_status(host)
            found[:] = [status] if status is not None else []
            return status is not None and status.checked

        wait_until(done, timeout, f"nagios4 to record the check of {host}", interval=0.2)
        return found[0]

    def stop(self) -> None:
        """End nagios4: the launcher's death kills PID 1 of its namespace, and with it every worker."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None
