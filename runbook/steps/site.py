"""Check that the host's website answers, from the controller (as a visitor would see it)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

from invoke.context import Context

from runbook.commands import StepRecorder, step
from runbook.errors import SettingsError
from runbook.results import Outcome, StepResult
from runbook.session import session_of, settings_for
from runbook.stepdata import SiteAnswers

_BODY_LIMIT = 1 << 20


@dataclass(frozen=True)
class SiteCheck:
    """One URL's answer: status (None when there was none), latency, and what went wrong."""

    url: str
    status: int | None
    latency: float
    error: str = ""
    text_found: bool | None = None

    @property
    def ok(self) -> bool:
        return not self.error and self.status is not None and 200 <= self.status < 400


def expand_url(url: str, c: Context) -> str:
    """``url`` with ``{host}`` (the name given) and ``{address}`` (the HostName used) filled in."""
    host = str(getattr(c, "original_host", None) or getattr(c, "host", None) or "localhost")
    address = str(getattr(c, "host", None) or host)
    try:
        return url.format(host=host, address=address)
    except (KeyError, IndexError, ValueError) as exc:
        raise SettingsError(f"url {url!r}: only {{host}} and {{address}} may be filled in ({exc})") from None


def fetch(url: str, *, timeout: float, expect_text: str | None = None) -> SiteCheck:
    """GET ``url``; an HTTP error status is an answer, a network error is not."""
    started = time.monotonic()
    request = urllib.request.Request(url, headers={"User-Agent": "runbook site check"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(_BODY_LIMIT)
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return SiteCheck(url, exc.code, time.monotonic() - started, f"HTTP {exc.code} {exc.reason}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return SiteCheck(url, None, time.monotonic() - started, f"no answer: {reason}")
    latency = time.monotonic() - started
    found = None if expect_text is None else expect_text in body.decode("utf-8", "replace")
    error = "" if found in (None, True) else f"expected text {expect_text!r} not in the page"
    return SiteCheck(url, status, latency, error, found)


@step("check_site", title="check site", data=SiteAnswers)
def check_site(
    c: Context,
    rec: StepRecorder,
    urls: list[str] | None = None,
    expect_text: str | None = None,
    dry_run: bool = False,
) -> StepResult:
    """GET each configured URL from the controller: status, latency, optional expected text.

    Read-only, so a dry run checks for real. ``skipped`` when no URL is configured.
    """
    settings = settings_for(c, urls=urls, expect_text=expect_text)
    if not settings.site.urls:
        return rec.finish(Outcome.SKIPPED, "no site URL configured (--url)")
    checks = [
        fetch(expand_url(url, c), timeout=settings.site.timeout, expect_text=settings.site.expect_text)
        for url in settings.site.urls
    ]
    data: dict[str, Any] = {"checks": [asdict(check) for check in checks]}
    session_of(c).site_checks = data["checks"]
    parts = [_describe(check) for check in checks]
    outcome = Outcome.OK if all(check.ok for check in checks) else Outcome.FAILED
    return rec.finish(outcome, "; ".join(parts), **data)


def _describe(check: SiteCheck) -> str:
    took = f"{check.latency * 1000:.0f} ms"
    if check.error:
        return f"{check.url} {check.error} ({took})"
    return f"{check.url} {check.status} in {took}"
