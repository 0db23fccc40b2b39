"""One mail per run: the Markdown record(s) as a UTF-8 text body, the JSON record(s) attached, sent by SMTP.

``compose_mail`` builds the message (``email.message.EmailMessage`` with the default policy:
non-ASCII headers are RFC 2047-encoded, the body is UTF-8). ``send_mail`` sends it through
``NotifySettings.smtp``, with STARTTLS (certificate and host name checked) and login when set,
and returns what went wrong as one-line problems instead of raising.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Sequence
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from runbook.notify.settings import NotifySettings
from runbook.notify.summary import RunSummary
from runbook.record import text

Attachment = tuple[str, bytes]


def compose_mail(
    summary: RunSummary,
    body: str,
    attachments: Sequence[Attachment],
    settings: NotifySettings,
    *,
    now: float | None = None,
) -> EmailMessage:
    """The run's mail: subject ``runbook: <headline>``, ``body`` as text/plain UTF-8, each
    ``(file name, bytes)`` attached as application/json."""
    message = EmailMessage(policy=policy.default)
    message["Subject"] = f"runbook: {summary.headline}"
    message["From"] = settings.mail_from
    message["To"] = settings.mail_to
    message["Date"] = formatdate(now, localtime=True)
    message["Message-ID"] = make_msgid("runbook", domain=settings.mail_from.domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    message["X-Runbook-Verdict"] = summary.verdict
    message.set_content(body, charset="utf-8")
    for name, data in attachments:
        message.add_attachment(data, maintype="application", subtype="json", filename=name)
    return message


def send_mail(message: EmailMessage, settings: NotifySettings) -> list[str]:
    """Send ``message`` to ``settings.mail_to``; ``[]`` when every recipient was accepted."""
    where = f"mail to {', '.join(a.addr_spec for a in settings.mail_to)} via {settings.smtp}"
    try:
        refused = _send(message, settings)
    except (smtplib.SMTPException, OSError) as exc:
        return [f"{where} not sent: {_why(exc, settings)}"]
    return [
        f"{where}: {addr} refused it ({_reply(code, reply)}); the others got it"
        for addr, (code, reply) in refused.items()
    ]


def _send(message: EmailMessage, settings: NotifySettings) -> dict[str, tuple[int, bytes]]:
    # local_hostname: smtplib's default (socket.getfqdn) asks DNS for this machine's name
    with smtplib.SMTP(
        settings.smtp.host, settings.smtp.port, local_hostname=socket.gethostname(), timeout=settings.timeout
    ) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user is not None and settings.smtp_password is not None:
            smtp.login(settings.smtp_user, settings.smtp_password)
        return smtp.send_message(
            message,
            from_addr=settings.mail_from.addr_spec,
            to_addrs=[a.addr_spec for a in settings.mail_to],
        )


def _why(exc: BaseException, settings: NotifySettings) -> str:
    """``exc`` as the end of a one-line problem."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refusals = "; ".join(f"{addr}: {_reply(*answer)}" for addr, answer in exc.recipients.items())
        return f"every recipient refused ({refusals})"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"login as {settings.smtp_user} refused ({_reply(exc.smtp_code, exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"sender {exc.sender} refused ({_reply(exc.smtp_code, exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server answered {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{exc} (set notify.starttls only for a server that offers it)"
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        return f"no answer within {settings.timeout:g} s"  # smtplib reports a read timeout as a disconnect
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"the server closed the connection ({exc or 'no reason given'})"
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = exc.verify_message
        return f"its TLS certificate is not trusted ({why}); trust its CA through SSL_CERT_FILE"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (no SMTP server listens there)"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve {settings.smtp.host} ({exc.strerror})"
    return text.one_line(str(exc)) or type(exc).__name__


def _reply(code: int, reply: bytes | str) -> str:
    words = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return f"{code} {text.one_line(words)}"
