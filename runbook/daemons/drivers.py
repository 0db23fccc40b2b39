"""Every daemon driver, in the order the daemon choice uses when neither enablement nor state picks one."""

from __future__ import annotations

from runbook.daemons import Driver, chrony, ntp, timesyncd
from runbook.timeservice import TimeService

DRIVERS: tuple[Driver, ...] = (chrony.DRIVER, ntp.NTPSEC, ntp.NTPD, timesyncd.DRIVER)
FAMILIES = tuple(driver.family for driver in DRIVERS)
SERVICES: tuple[TimeService, ...] = tuple(service for driver in DRIVERS for service in driver.services)
"""Every daemon/init/name the probe looks for and the steps can drive."""


def driver_for(family: str) -> Driver:
    """The driver of ``family`` (the ntpd driver for an unknown one: its tools need no daemon)."""
    return next((driver for driver in DRIVERS if driver.family == family), ntp.NTPD)


def service_named(daemon: str, init: str, name: str) -> TimeService | None:
    """The known service ``name`` of ``daemon`` under ``init``."""
    return next((s for s in SERVICES if (s.daemon, s.init, s.name) == (daemon, init, name)), None)
