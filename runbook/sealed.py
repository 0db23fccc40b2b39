"""The connection a run opens: a Fabric ``Connection`` that stays shut once its session is sealed.

Fabric reopens a closed connection on the next ``c.run``. After a step timed out, the engine
closes the connection and seals the host's session; a step still running in its abandoned
thread then gets ``HostUnavailable`` instead of a new connection to the host.
"""

from __future__ import annotations

from typing import Any

from fabric import Connection

from runbook.errors import HostUnavailable
from runbook.session import has_session, session_of


class SealableConnection(Connection):  # type: ignore[misc]
    """A Fabric ``Connection`` that refuses to (re)open once its host's session is sealed."""

    def open(self) -> Any:
        if has_session(self) and session_of(self).sealed:
            raise HostUnavailable(session_of(self).sealed)
        return super().open()
