"""Records that arrive by mail: a run's result sent by SMTP and posted to a chat webhook.

``build_notify_settings`` reads the ``notify:`` settings and the mail flags into
``NotifySettings``; after the records are written, ``deliver(fleet, paths, settings)`` sends
one mail (the Markdown records as the body, the JSON records attached) and/or one webhook POST,
and returns what failed as one-line problems.
"""

from runbook.notify.deliver import RecordFiles, deliver
from runbook.notify.mail import compose_mail, send_mail
from runbook.notify.settings import (
    PASSWORD_VARIABLE,
    SETTING_NAMES,
    NotifySettings,
    SmtpServer,
    build_notify_settings,
    parse_address,
    parse_smtp_server,
    parse_webhook,
)
from runbook.notify.summary import HostVerdict, RunSummary, summarise
from runbook.notify.webhook import post_webhook, webhook_payload

__all__ = [
    "PASSWORD_VARIABLE",
    "SETTING_NAMES",
    "HostVerdict",
    "NotifySettings",
    "RecordFiles",
    "RunSummary",
    "SmtpServer",
    "build_notify_settings",
    "compose_mail",
    "deliver",
    "parse_address",
    "parse_smtp_server",
    "parse_webhook",
    "post_webhook",
    "send_mail",
    "summarise",
    "webhook_payload",
]
