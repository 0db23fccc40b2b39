"""Where a run's result is sent: the ``notify:`` section of runbook.yaml and the mail/webhook flags.

``build_notify_settings(section, **overrides)`` validates config-file shapes (lists or
comma-separated strings, ``"30s"`` durations, ``yes``/``no``) into a frozen
``NotifySettings``; a bad value raises ``SettingsError`` naming the setting, the value and
what is accepted. The SMTP password may come from ``RUNBOOK_SMTP_PASSWORD``, which is read
and removed from the environment so no command started later inherits it.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from dataclasses import dataclass, field
from email.headerregistry import Address
from typing import Any
from urllib.parse import urlsplit

from runbook.configvalues import boolean
from runbook.durations import parse_duration
from runbook.errors import DurationError, SettingsError

PASSWORD_VARIABLE = "RUNBOOK_SMTP_PASSWORD"  # noqa: S105 - the variable's name, not a password
SETTING_NAMES = (
    "mail_to",
    "smtp",
    "starttls",
    "smtp_user",
    "smtp_password",
    "mail_from",
    "webhook",
    "timeout",
)
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_NAMED = re.compile(r"(?P<name>[^<>]*?)\s*<(?P<addr>[^<>]*)>")
_HOST_PORT = re.compile(r"(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\[\]]+))(?::(?P<port>[^:]*))?")


def default_sender() -> Address:
    """``runbook@<this machine's host name>``, or ``runbook@localhost`` if that is no domain."""
    host = socket.gethostname()
    return Address(addr_spec=f"runbook@{host if _DOMAIN.fullmatch(host) else 'localhost'}")


@dataclass(frozen=True)
class SmtpServer:
    """The SMTP server mail goes through; shown as ``host:port`` (``[::1]:25`` for IPv6)."""

    host: str = "localhost"
    port: int = 25

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class NotifySettings:
    """Who gets a run's result, and how: mail through ``smtp`` to ``mail_to``, and/or a ``webhook``.

    ``smtp_password`` and ``webhook`` (chat hook URLs carry their secret in the path) are left
    out of the repr; ``shown()`` gives printable values.
    """

    mail_to: tuple[Address, ...] = ()
    smtp: SmtpServer = SmtpServer()
    starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    mail_from: Address = field(default_factory=default_sender)
    webhook: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    @property
    def enabled(self) -> bool:
        """Whether there is anywhere to send a result."""
        return bool(self.mail_to) or self.webhook is not None

    def shown(self) -> dict[str, str]:
        """Every setting as text for printing, the password and the webhook's path hidden."""
        return {
            "mail_to": ", ".join(str(a) for a in self.mail_to) or "(none)",
            "smtp": str(self.smtp),
            "starttls": "yes" if self.starttls else "no",
            "smtp_user": self.smtp_user or "(none)",
            "smtp_password": "(set, hidden)" if self.smtp_password else "(none)",
            "mail_from": str(self.mail_from),
            "webhook": webhook_origin(self.webhook) + "/…" if self.webhook else "(none)",
            "timeout": f"{self.timeout:g} s",
        }


def build_notify_settings(section: dict[str, Any] | None = None, **overrides: Any) -> NotifySettings:
    """``NotifySettings`` from runbook.yaml's ``notify:`` section, then ``overrides`` (the flags).

    An override of ``None`` is ignored (a flag not given). ``mail_to`` takes a list or a
    comma-separated string of ``ops@example.jp`` or ``Ops <ops@example.jp>``; ``smtp`` is
    ``HOST[:PORT]``; ``timeout`` a duration (``30``, ``30s``, ``1m``). ``RUNBOOK_SMTP_PASSWORD`` is
    taken out of the environment on the first read and remembered for later ones.
    """
    raw = dict(section or {})
    raw.update({name: value for name, value in overrides.items() if value is not None})
    unknown = sorted(set(raw) - set(SETTING_NAMES))
    if unknown:
        raise SettingsError(
            f"unknown notify setting(s): {', '.join(unknown)}; known: {', '.join(sorted(SETTING_NAMES))}"
        )
    from_environment = smtp_password_from_environment()
    values: dict[str, Any] = {}
    if raw.get("mail_to") is not None:
        items = _items("mail_to", raw["mail_to"])
        values["mail_to"] = tuple(parse_address("mail_to", item) for item in items)
    if raw.get("smtp") is not None:
        values["smtp"] = parse_smtp_server(str(raw["smtp"]))
    if raw.get("starttls") is not None:
        values["starttls"] = boolean("starttls", raw["starttls"])
    if raw.get("mail_from") is not None:
        values["mail_from"] = parse_address("mail_from", raw["mail_from"])
    if raw.get("webhook") is not None:
        values["webhook"] = parse_webhook(str(raw["webhook"]))
    if raw.get("timeout") is not None:
        values["timeout"] = _timeout(raw["timeout"])
    user = raw.get("smtp_user")
    password = raw.get("smtp_password")
    values["smtp_user"] = str(user) if user not in (None, "") else None
    values["smtp_password"] = str(password) if password not in (None, "") else from_environment or None
    settings = NotifySettings(**values)
    _check_login(settings)
    return settings


_from_environment: dict[str, str] = {}


def smtp_password_from_environment() -> str | None:
    """``$RUNBOOK_SMTP_PASSWORD``, taken out of the environment on the first read and remembered."""
    value = os.environ.pop(PASSWORD_VARIABLE, None)
    if value is not None:
        _from_environment[PASSWORD_VARIABLE] = value
    return _from_environment.get(PASSWORD_VARIABLE)


def parse_address(name: str, text: Any) -> Address:
    """``ops@example.jp`` or ``Display Name <ops@example.jp>`` (the name may be in any script)."""
    whole = str(text).strip()
    named = _NAMED.fullmatch(whole)
    display, addr = (named["name"].strip().strip('"'), named["addr"].strip()) if named else ("", whole)
    local, at, domain = addr.rpartition("@")
    accepted = "an address such as ops@example.jp or 'Ops <ops@example.jp>'"
    if not at or not _LOCAL_PART.fullmatch(local) or not _DOMAIN.fullmatch(domain):
        if not addr.isascii():
            accepted += " (an internationalised domain in its xn-- form)"
        raise SettingsError(f"{name} {whole!r} is not a mail address: give {accepted}")
    if not display.isprintable():
        raise SettingsError(f"{name} {whole!r} has control characters in its name: give {accepted}")
    return Address(display_name=display, addr_spec=addr)


def parse_smtp_server(text: str) -> SmtpServer:
    """``HOST[:PORT]`` (port 25 when left out; an IPv6 address in brackets: ``[::1]:2525``)."""
    accepted = "give HOST[:PORT] such as localhost:25, mail.example.jp:587 or [::1]:25"
    found = _HOST_PORT.fullmatch(text.strip())
    if found is None:
        hint = f"; put an IPv6 address in brackets: [{text.strip()}]:25" if text.count(":") > 1 else ""
        raise SettingsError(f"smtp {text!r} is not HOST[:PORT]: {accepted}{hint}")
    host = found["v6"] or found["host"]
    if found["v6"] is not None and not _is_ipv6(found["v6"]):
        raise SettingsError(f"smtp {text!r}: {found['v6']!r} in brackets is not an IPv6 address; {accepted}")
    if found["v6"] is None and not _DOMAIN.fullmatch(host):
        raise SettingsError(f"smtp {text!r}: {host!r} is not a host name or address; {accepted}")
    port_text = found["port"]
    if port_text is None:
        return SmtpServer(host, 25)
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise SettingsError(f"smtp {text!r}: port {port_text!r} is not a number from 1 to 65535; {accepted}")
    return SmtpServer(host, int(port_text))


def parse_webhook(text: str) -> str:
    """An ``http://`` or ``https://`` URL with a host (a chat service's incoming-webhook URL)."""
    url = text.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SettingsError(
            f"webhook {webhook_origin(url)!r}… is not an http:// or https:// URL: give the hook's full URL"
        )
    if not url.isprintable() or " " in url:
        raise SettingsError(f"webhook {webhook_origin(url)!r}… has spaces or control characters in it")
    return url


def webhook_origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL: what messages show of a webhook (its path is a secret)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0].rpartition('@')[2]}" if rest else url[:20]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback address (no network between us and it)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_login(settings: NotifySettings) -> None:
    if settings.smtp_password is not None and settings.smtp_user is None:
        raise SettingsError(
            "smtp_password is set but smtp_user is not: set notify.smtp_user, or unset the password "
            f"({PASSWORD_VARIABLE})"
        )
    if settings.smtp_user is None:
        return
    if settings.smtp_password is None:
        raise SettingsError(
            f"smtp_user {settings.smtp_user!r} has no password: set {PASSWORD_VARIABLE} "
            "(or notify.smtp_password)"
        )
    if not (settings.smtp_user + settings.smtp_password).isascii():
        raise SettingsError(
            "smtp_user and smtp_password must be ASCII: SMTP login cannot send other characters"
        )
    if not settings.starttls and not is_loopback(settings.smtp.host):
        raise SettingsError(
            f"smtp_user without starttls would send the password in clear to {settings.smtp}: "
            "set notify.starttls: true, or relay through a local server"
        )


def _items(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, list | tuple):
        parts = [str(part) for part in value]
    else:
        raise SettingsError(f"{name} must be a list or a comma-separated string, not {value!r}")
    return [part.strip() for part in parts if part.strip()]


def _timeout(value: Any) -> float:
    try:
        seconds = parse_duration(value)
    except DurationError as exc:
        raise SettingsError(f"timeout: {exc}") from None
    if seconds <= 0:
        raise SettingsError(f"timeout must be more than zero, not {value!r}")
    return seconds


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True
