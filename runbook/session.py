"""What one host's steps share: a typed session attached to its connection.

The engine (or ``connect()``) attaches a ``HostSession`` to the connection once; every step
reads it with ``session_of(c)``. A context nobody attached one to (a step run on its own
from ``fab``/``invoke``) gets one built from its Invoke config on first use. Nothing else
about a run is stored on the connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from invoke.context import Context

from runbook.settings import Settings, build_settings, with_overrides

if TYPE_CHECKING:
    from runbook.clock import Measurement
    from runbook.facts import HostFacts

_ATTRIBUTE = "_runbook_session"


@dataclass
class HostSession:
    """A host's run so far, as its steps need it.

    - ``settings``: the run's settings (a step's keyword overrides never change them);
    - ``facts``: what the probe found, until a step that changed the host drops them;
    - ``first_offset``: the clock offset ``check_date`` measured before anything was fixed;
    - ``clock_changed``: a step stepped the clock or (re)started a daemon that may step it;
    - ``reruns``: ``(user, command)`` pairs already rerun, so no job runs twice in one run;
    - ``cron_section``: the cron fragment's output when it came without the probe;
    - ``cron_scope``: the least cron scope the probe reads (``jobs`` for ``snapshot`` and a ``compare``
      with a cron schedule to compare), widened from the clock as usual;
    - ``probe_token``: the probe's section marker; ``None`` draws a fresh random one per probe;
    - ``deadline``: when the running step's time is up (``time.monotonic()``); commands end before it;
    - ``sealed``: why nothing more may reach the host in this run (a step timed out), else ``None``;
    - ``site_checks``: ``check_site``'s answers in this run (``compare`` reads them, not the site again).
    """

    settings: Settings
    facts: HostFacts | None = None
    first_offset: Measurement | None = None
    clock_changed: bool = False
    reruns: set[tuple[str, str]] = field(default_factory=set)
    cron_section: str | None = None
    cron_scope: str | None = None
    probe_token: str | None = None
    deadline: float | None = None
    sealed: str | None = None
    site_checks: list[dict[str, Any]] | None = None

    def seal(self, reason: str) -> None:
        """From now on no command of this run reaches the host; ``reason`` says why."""
        self.sealed = reason

    def already_rerun(self, user: str, command: str) -> bool:
        return (user, command.strip()) in self.reruns

    def mark_rerun(self, user: str, command: str) -> None:
        self.reruns.add((user, command.strip()))


def attach(c: Context, settings: Settings) -> HostSession:
    """Start a fresh session for ``c`` with ``settings`` (the engine and ``connect()`` do this)."""
    session = HostSession(settings)
    object.__setattr__(c, _ATTRIBUTE, session)  # Context proxies plain attributes into its config
    return session


def has_session(c: Context) -> bool:
    """Whether the engine or ``connect()`` attached a session to ``c`` (or a step already built one)."""
    return isinstance(c.__dict__.get(_ATTRIBUTE), HostSession)


def session_of(c: Context) -> HostSession:
    """``c``'s session; one built from ``c.config.runbook`` when none was attached."""
    found = c.__dict__.get(_ATTRIBUTE)
    if isinstance(found, HostSession):
        return found
    return attach(c, settings_from_config(c))


def settings_for(c: Context, **overrides: Any) -> Settings:
    """The session's settings with a step's keyword ``overrides`` applied (``None`` values ignored)."""
    given = {name: value for name, value in overrides.items() if value is not None}
    return with_overrides(session_of(c).settings, given)


def settings_from_config(c: Context, **overrides: Any) -> Settings:
    """Settings from the defaults, the ``runbook`` section of ``c``'s Invoke config and ``overrides``."""
    section = c.config.get("runbook", None)
    given = {name: value for name, value in overrides.items() if value is not None}
    return with_overrides(build_settings(_plain(section) if section is not None else {}), given)


def _plain(section: Any) -> dict[str, Any]:
    """An Invoke DataProxy section as plain dicts and lists."""
    if hasattr(section, "_config"):
        section = dict(section.items())
    return {k: _plain(v) if hasattr(v, "_config") else v for k, v in dict(section).items()}
