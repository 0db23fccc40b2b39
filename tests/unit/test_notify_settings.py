"""Notify settings: config-file shapes, flags over the file, one-line errors, the password out of sight."""

from __future__ import annotations

import os
import socket

import pytest

from runbook.errors import SettingsError
from runbook.notify.settings import PASSWORD_VARIABLE, NotifySettings, SmtpServer, build_notify_settings


def test_defaults_send_nothing_through_localhost_25() -> None:
    settings = build_notify_settings()
    assert not settings.enabled
    assert settings.smtp == SmtpServer("localhost", 25)
    assert str(settings.smtp) == "localhost:25"
    assert settings.mail_from.addr_spec == f"runbook@{socket.gethostname()}"
    assert settings.timeout == 30.0
    assert not settings.starttls


@pytest.mark.parametrize(
    "given", ["ops@example.jp, 運用 <noc@example.jp>", ["ops@example.jp", "運用 <noc@example.jp>"]]
)
def test_mail_to_takes_a_list_or_a_comma_string(given: object) -> None:
    settings = build_notify_settings({"mail_to": given})
    assert [str(a) for a in settings.mail_to] == ["ops@example.jp", "運用 <noc@example.jp>"]
    assert [a.addr_spec for a in settings.mail_to] == ["ops@example.jp", "noc@example.jp"]
    assert settings.enabled


def test_flags_win_over_the_file_and_a_flag_not_given_changes_nothing() -> None:
    section = {"mail_to": "file@example.jp", "smtp": "relay.example.jp:587", "starttls": "yes"}
    settings = build_notify_settings(section, mail_to=["flag@example.jp"], smtp=None, webhook=None)
    assert [a.addr_spec for a in settings.mail_to] == ["flag@example.jp"]
    assert settings.smtp == SmtpServer("relay.example.jp", 587)
    assert settings.starttls is True
    assert settings.webhook is None


@pytest.mark.parametrize(
    ("text", "server", "shown"),
    [
        ("mail.example.jp", SmtpServer("mail.example.jp", 25), "mail.example.jp:25"),
        (" mail.example.jp:587 ", SmtpServer("mail.example.jp", 587), "mail.example.jp:587"),
        ("127.0.0.1:2525", SmtpServer("127.0.0.1", 2525), "127.0.0.1:2525"),
        ("[::1]:2525", SmtpServer("::1", 2525), "[::1]:2525"),
        ("[2001:db8::25]", SmtpServer("2001:db8::25", 25), "[2001:db8::25]:25"),
    ],
)
def test_smtp_is_host_and_optional_port(text: str, server: SmtpServer, shown: str) -> None:
    parsed = build_notify_settings({"smtp": text}).smtp
    assert parsed == server
    assert str(parsed) == shown


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"mail_to": "ops"}, "mail_to 'ops' is not a mail address: give an address such as ops@example.jp"),
        ({"mail_to": "ops@example.jp;rm -rf /"}, "mail_to 'ops@example.jp;rm -rf /' is not a mail address"),
        ({"mail_to": "ops@例え.jp"}, "(an internationalised domain in its xn-- form)"),
        ({"mail_to": "Ops\x1b <ops@example.jp>"}, "has control characters in its name"),
        ({"mail_to": 25}, "mail_to must be a list or a comma-separated string, not 25"),
        ({"mail_from": "runbook"}, "mail_from 'runbook' is not a mail address"),
        ({"smtp": "::1"}, "smtp '::1' is not HOST[:PORT]: give HOST[:PORT] such as localhost:25"),
        ({"smtp": "::1"}, "put an IPv6 address in brackets: [::1]:25"),
        ({"smtp": "[mail.example.jp]:25"}, "'mail.example.jp' in brackets is not an IPv6 address"),
        ({"smtp": "mail.example.jp:smtp"}, "port 'smtp' is not a number from 1 to 65535"),
        ({"smtp": "mail.example.jp:70000"}, "port '70000' is not a number from 1 to 65535"),
        ({"smtp": "mail_relay:25"}, "'mail_relay' is not a host name or address"),
        ({"starttls": "maybe"}, "starttls must be true or false, not 'maybe'"),
        ({"timeout": "soon"}, "timeout: not a duration: 'soon'"),
        ({"timeout": "0s"}, "timeout must be more than zero, not '0s'"),
        (
            {"webhook": "ftp://hooks.example.jp/x"},
            "webhook 'ftp://hooks.example.jp'… is not an http:// or https://",
        ),
        ({"webhook": "https://"}, "is not an http:// or https:// URL: give the hook's full URL"),
        ({"webhook": "https://hooks.example.jp:x/T0/SECRET"}, "is not an http:// or https:// URL"),
        ({"webhook": "https://hooks.example.jp/T0/a b"}, "has spaces or control characters in it"),
        ({"mail-to": "ops@example.jp"}, "unknown notify setting(s): mail-to; known: mail_from, mail_to"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_setting(section: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        build_notify_settings(section)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert "SECRET" not in str(raised.value)


def test_the_password_comes_from_the_environment_and_leaves_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, "from-env")
    settings = build_notify_settings({"smtp_user": "ops", "smtp": "mail.example.jp:587", "starttls": True})
    assert settings.smtp_password == "from-env"
    assert PASSWORD_VARIABLE not in os.environ
    assert build_notify_settings({"smtp_user": "ops"}).smtp_password == "from-env"  # read again: remembered
    assert "from-env" not in repr(settings)
    assert settings.shown()["smtp_password"] == "(set, hidden)"


def test_a_password_in_the_file_wins_and_the_variable_is_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, "from-env")
    settings = build_notify_settings({"smtp_user": "ops", "smtp_password": "from-file"})
    assert settings.smtp_password == "from-file"
    assert PASSWORD_VARIABLE not in os.environ


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"smtp_user": "ops"}, "smtp_user 'ops' has no password: set RUNBOOK_SMTP_PASSWORD"),
        ({"smtp_password": "x"}, "smtp_password is set but smtp_user is not"),
        (
            {"smtp_user": "ops", "smtp_password": "x", "smtp": "mail.example.jp:587"},
            "smtp_user without starttls would send the password in clear to mail.example.jp:587",
        ),
        ({"smtp_user": "ops", "smtp_password": "パス"}, "smtp_user and smtp_password must be ASCII"),
    ],
)
def test_login_settings_that_cannot_work_are_refused(section: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match="^" + message.replace("(", r"\(")):
        build_notify_settings(section)


def test_a_login_to_a_local_relay_needs_no_starttls() -> None:
    settings = build_notify_settings({"smtp_user": "ops", "smtp_password": "x", "smtp": "[::1]:25"})
    assert settings.smtp_user == "ops"


def test_the_webhook_path_is_a_secret_kept_out_of_repr_and_shown() -> None:
    settings = build_notify_settings(webhook="https://hooks.example.jp/services/T0/B0/SECRET")
    assert settings.webhook == "https://hooks.example.jp/services/T0/B0/SECRET"
    assert "SECRET" not in repr(settings)
    assert settings.shown()["webhook"] == "https://hooks.example.jp/…"
    assert settings.enabled


def test_settings_are_frozen() -> None:
    settings = NotifySettings()
    with pytest.raises(AttributeError):
        settings.starttls = True  # type: ignore[misc]
