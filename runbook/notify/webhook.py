"""A short JSON summary POSTed to a chat service's incoming webhook.

The payload's ``text`` is what Slack, Mattermost and Discord's Slack-compatible hooks
(``…/slack``) show; the other fields (``verdict``, ``hosts``, ``counts`` …) are for a hook
that reads structure. Redirects are not followed: a hook that moved is a setting to fix.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any

from runbook.notify.settings import NotifySettings, webhook_origin
from runbook.notify.summary import RunSummary
from runbook.record import model, text

ANSWER_LIMIT = 64 * 1024  # a hook answers "ok"; read no more than this of whatever it says


def webhook_payload(summary: RunSummary, where: str) -> dict[str, Any]:
    """The JSON object posted: ``text`` for chat, then the same result as fields."""
    return {
        "text": summary.chat_text(where),
        "headline": summary.headline,
        "verdict": summary.verdict,
        "dry_run": summary.dry_run,
        "stopped": summary.stopped,
        "counts": summary.counts(),
        "hosts": [
            {"host": h.host, "outcome": h.outcome, "verdict": h.label, "error": h.error, "record": h.record}
            for h in summary.hosts
        ],
        "controller": socket.gethostname(),
    }


def post_webhook(payload: dict[str, Any], settings: NotifySettings) -> list[str]:
    """POST ``payload`` to ``settings.webhook``; ``[]`` on a 2xx answer, else one problem."""
    if settings.webhook is None:
        return []
    request = urllib.request.Request(  # noqa: S310 - parse_webhook allows http(s) URLs only
        settings.webhook,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"runbook/{model.runbook_version()}",
        },
        method="POST",
    )
    where = f"webhook {webhook_origin(settings.webhook)}"
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=settings.timeout) as answer:
            answer.read(ANSWER_LIMIT)
    except urllib.error.HTTPError as exc:
        exc.close()
        return [f"{where} answered HTTP {exc.code} {text.one_line(exc.reason or '')}".rstrip()]
    except (urllib.error.URLError, OSError) as exc:
        return [f"{where} not reached: {_why(exc, settings.timeout)}"]
    return []


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Turns a redirect into the ``HTTPError`` it is (urllib would re-send a POST as a GET)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _why(exc: BaseException, timeout: float) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, OSError) and reason.strerror:
        return text.one_line(reason.strerror)
    return text.one_line(str(reason)) or type(reason).__name__
