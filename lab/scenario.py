"""Scenario knobs: the state a lab host is in when it comes back from maintenance."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from lab.errors import LabError
from runbook.durations import parse_duration
from runbook.errors import DurationError

DAEMON_STATES = ("stopped", "running", "crashed")
SITE_STATES = ("up", "down")
LOGIN_USERS = ("root", "sudo")
SECOND_DAEMONS = ("none", "ntpd", "chronyd")
DEFAULT_UPTIME = 40 * 86400.0


@dataclass(frozen=True)
class Scenario:
    """How a host is broken.

    ``offset`` is the fake clock's offset from the real one in seconds (negative = behind);
    ``daemon`` is the time daemon's state (``crashed`` leaves a stale pid file);
    ``ntpdate`` says whether the one-shot tool is installed; ``site`` is the website's state;
    ``user`` is the login user: ``root`` or the sudo user;
    ``second_daemon`` is another time daemon installed but disabled and stopped (``none``, ``ntpd``,
    ``chronyd``; which ones a profile offers is in its ``second_daemons``);
    ``rtc`` says whether the host has a hardware clock (``hwclock`` fails without one);
    ``lang`` is the locale every SSH session gets (e.g. ``ja_JP.UTF-8``: ``date`` speaks Japanese),
    empty for the C locale;
    ``uptime`` is how long the host has been up in seconds, on its own clock: its /proc/stat's
    ``btime`` is the host's clock when the host starts minus ``uptime`` (default 40 days: a
    long-running server, no recent boot);
    ``requiretty`` adds ``Defaults requiretty`` to sudoers, as CentOS 6.0-6.7 shipped it: sudo then refuses
    to run without a terminal (``sudo: sorry, you must have a tty to run sudo``).
    """

    offset: float = -3 * 3600.0
    daemon: str = "stopped"
    ntpdate: bool = True
    site: str = "up"
    user: str = "root"
    second_daemon: str = "none"
    rtc: bool = True
    lang: str = ""
    uptime: float = DEFAULT_UPTIME
    requiretty: bool = False

    def __post_init__(self) -> None:
        if self.lang and not re.fullmatch(r"[A-Za-z]+_[A-Za-z]+(\.[A-Za-z0-9-]+)?", self.lang):
            raise LabError(f"scenario lang={self.lang!r}: use a locale name such as ja_JP.UTF-8")
        if not self.uptime >= 0:  # also catches NaN
            raise LabError(
                f"scenario uptime={self.uptime:g} s: a host cannot have been up for a negative time; "
                'use a duration such as "40d" or "2h" (0 = booted just now)'
            )
        for name, value, allowed in (
            ("daemon", self.daemon, DAEMON_STATES),
            ("site", self.site, SITE_STATES),
            ("user", self.user, LOGIN_USERS),
            ("second_daemon", self.second_daemon, SECOND_DAEMONS),
        ):
            if value not in allowed:
                raise LabError(f"scenario {name}={value!r}: use one of {', '.join(allowed)}")

    def with_knobs(self, **knobs: Any) -> Scenario:
        """A copy with ``knobs`` applied; ``offset``, ``uptime`` may be durations (``"-3h"``, ``"40d"``)."""
        unknown = sorted(set(knobs) - set(asdict(self)))
        if unknown:
            raise LabError(f"unknown scenario knob(s): {', '.join(unknown)}")
        for name in ("offset", "uptime"):
            if name in knobs:
                try:
                    knobs[name] = parse_duration(knobs[name])
                except DurationError as error:
                    raise LabError(f"scenario {name}: {error}") from error
        return replace(self, **knobs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        return cls().with_knobs(**data)
