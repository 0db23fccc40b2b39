"""Mail delivery against a real SMTP server (aiosmtpd) on loopback: what arrives, and what a failure says."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

import pytest
from notify_runs import JAPANESE, failed_run, japanese_run
from notify_servers import Inbox, closed_port, self_signed_cert, silent_server, smtp_server
from record_seed import T0, seed_settings

from runbook.notify.deliver import deliver
from runbook.notify.settings import NotifySettings, SmtpServer, build_notify_settings
from runbook.record import write_records
from runbook.results import FleetRun

FOUND_JA = "ntpd は停止していました。"
"""A line of the seed run's Japanese record (Found): the record in the mail body is Japanese text."""


def settings_for(port: int, **more: object) -> NotifySettings:
    return build_notify_settings(
        {
            "mail_to": "運用チーム <ops@example.jp>",
            "mail_from": "runbook@monitor01.example.jp",
            "timeout": "5s",
        },
        smtp=f"127.0.0.1:{port}",
        **more,
    )


def fingerprints(folder: Path) -> dict[str, str]:
    """Every file in ``folder`` by name, with a hash of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def json_attachments(message: EmailMessage) -> dict[str, bytes]:
    found = {}
    for part in message.iter_attachments():
        assert isinstance(part, EmailMessage)
        assert part.get_content_type() == "application/json"
        name = part.get_filename()
        assert name is not None
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        found[name] = payload
    return found


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_port(inbox: Inbox) -> Iterator[int]:
    with smtp_server(inbox) as port:
        yield port


def test_one_host_one_mail_with_the_record_as_utf8_body_and_json_attached(
    tmp_path: Path, inbox: Inbox, smtp_port: int
) -> None:
    paths = write_records(japanese_run(), seed_settings("ja"), tmp_path, now=T0 + 60)

    problems = deliver(FleetRun([japanese_run()]), paths, settings_for(smtp_port))

    assert problems == []
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "runbook@monitor01.example.jp"
    assert envelope.rcpt_tos == ["ops@example.jp"]
    [message] = inbox.messages()
    assert message["Subject"] == "runbook: web01.example.jp FIXED, 2 LEFT"
    assert message["To"] == "運用チーム <ops@example.jp>"
    assert message["From"] == "runbook@monitor01.example.jp"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Runbook-Verdict"] == "FIXED"
    assert message["Message-ID"].endswith("@monitor01.example.jp>")
    body = message.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    assert body.get_content_charset() == "utf-8"
    text = body.get_content().replace("\r\n", "\n")
    assert text.startswith(paths[0].read_text(encoding="utf-8"))
    assert FOUND_JA in text
    assert f"Records: {tmp_path.resolve()} on " in text
    assert json_attachments(message) == {paths[1].name: paths[1].read_bytes()}
    attached = json.loads(json_attachments(message)[paths[1].name])
    assert attached["label"] == "復旧済み・残課題 2 件（変更 4 件）"
    [site] = [step for step in attached["results"] if step["step"] == "check_site"]
    assert site["message"].endswith(JAPANESE)


def test_non_ascii_headers_travel_rfc2047_encoded_and_decode_back(
    tmp_path: Path, inbox: Inbox, smtp_port: int
) -> None:
    run = japanese_run("ウェブ01")
    paths = write_records(run, seed_settings(), tmp_path, now=T0 + 60)

    assert deliver(FleetRun([run]), paths, settings_for(smtp_port)) == []

    [envelope] = inbox.envelopes
    assert isinstance(envelope.original_content, bytes)
    head = envelope.original_content.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert b"Subject: runbook: =?utf-8?" in head
    [message] = inbox.messages()
    assert message["Subject"] == "runbook: ウェブ01 FIXED, 2 LEFT"
    assert message["To"].addresses[0].display_name == "運用チーム"


def test_a_fleet_is_one_mail_summary_first_every_json_attached(
    tmp_path: Path, inbox: Inbox, smtp_port: int
) -> None:
    fleet = FleetRun(
        [japanese_run("web01"), failed_run("db01"), japanese_run("web02")], started=T0, finished=T0 + 60
    )
    paths = write_records(fleet, seed_settings(), tmp_path, now=T0 + 60)

    assert deliver(fleet, paths, settings_for(smtp_port)) == []

    [message] = inbox.messages()
    assert message["Subject"] == "runbook: 3 hosts, 1 FAILED, 2 FIXED"
    assert message["X-Runbook-Verdict"] == "FAILED"
    body = message.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    text = body.get_content().replace("\r\n", "\n")
    summary_md = paths[-2]
    assert summary_md.name.startswith("fleet-")
    assert text.startswith(summary_md.read_text(encoding="utf-8"))
    positions = [text.index(p.read_text(encoding="utf-8")) for p in paths[0:6:2]]
    assert positions == sorted(positions)
    assert list(json_attachments(message)) == [paths[-1].name, *(p.name for p in paths[1:6:2])]


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_starttls_and_login_with_a_self_signed_certificate(
    tmp_path: Path, inbox: Inbox, mechanism: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = self_signed_cert(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    monkeypatch.setenv("RUNBOOK_SMTP_PASSWORD", "s3cret")
    records = tmp_path / "records"
    records.mkdir()
    paths = write_records(japanese_run(), seed_settings(), records, now=T0 + 60)
    with smtp_server(inbox, tls_cert=cert, login=mechanism) as port:
        settings = settings_for(port, starttls=True, smtp_user="ops")
        assert deliver(FleetRun([japanese_run()]), paths, settings) == []

    assert inbox.logins == [(mechanism, "ops", "s3cret")]
    assert inbox.tls_sessions == [True]
    [message] = inbox.messages()
    assert message["Subject"] == "runbook: web01.example.jp FIXED, 2 LEFT"


def test_a_refused_login_is_reported_and_nothing_is_sent(
    tmp_path: Path, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = self_signed_cert(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    paths = write_records(japanese_run(), seed_settings(), tmp_path / "r", now=T0 + 60)
    with smtp_server(inbox, tls_cert=cert, login="LOGIN") as port:
        settings = settings_for(port, starttls=True, smtp_user="ops", smtp_password="wrong")
        problems = deliver(FleetRun([japanese_run()]), paths, settings)

    [problem] = problems
    assert problem.startswith(
        f"mail to ops@example.jp via 127.0.0.1:{port} not sent: login as ops refused (535 5.7.8"
    )
    assert inbox.envelopes == []


def test_an_untrusted_certificate_is_reported(tmp_path: Path, inbox: Inbox) -> None:
    paths = write_records(japanese_run(), seed_settings(), tmp_path / "r", now=T0 + 60)
    with smtp_server(inbox, tls_cert=self_signed_cert(tmp_path)) as port:
        problems = deliver(FleetRun([japanese_run()]), paths, settings_for(port, starttls=True))

    [problem] = problems
    assert "not sent: its TLS certificate is not trusted (self-signed certificate)" in problem
    assert inbox.envelopes == []


def test_starttls_asked_of_a_server_without_it_is_reported(
    tmp_path: Path, inbox: Inbox, smtp_port: int
) -> None:
    paths = write_records(japanese_run(), seed_settings(), tmp_path, now=T0 + 60)

    [problem] = deliver(FleetRun([japanese_run()]), paths, settings_for(smtp_port, starttls=True))

    assert "STARTTLS extension not supported by server" in problem
    assert inbox.envelopes == []


def test_a_refused_connection_is_reported_and_the_records_stay_as_written(tmp_path: Path) -> None:
    fleet = FleetRun([japanese_run("web01"), failed_run("db01")], started=T0)
    paths = write_records(fleet, seed_settings(), tmp_path, now=T0 + 60)
    before = fingerprints(tmp_path)
    assert len(before) == 6
    with closed_port() as port:
        problems = deliver(fleet, paths, settings_for(port))

    assert problems == [
        f"mail to ops@example.jp via 127.0.0.1:{port} not sent: "
        "connection refused (no SMTP server listens there)"
    ]
    assert fingerprints(tmp_path) == before


def test_a_server_that_never_answers_is_reported_after_the_timeout(tmp_path: Path) -> None:
    paths = write_records(japanese_run(), seed_settings(), tmp_path, now=T0 + 60)
    with silent_server() as port:
        problems = deliver(FleetRun([japanese_run()]), paths, settings_for(port, timeout=0.3))

    assert problems == [f"mail to ops@example.jp via 127.0.0.1:{port} not sent: no answer within 0.3 s"]


def test_a_refused_message_is_reported_with_the_servers_answer(tmp_path: Path) -> None:
    inbox = Inbox(data_reply="554 5.7.1 message rejected as spam")
    paths = write_records(japanese_run(), seed_settings(), tmp_path, now=T0 + 60)
    with smtp_server(inbox) as port:
        problems = deliver(FleetRun([japanese_run()]), paths, settings_for(port))

    assert problems == [
        f"mail to ops@example.jp via 127.0.0.1:{port} not sent: "
        "the server answered 554 5.7.1 message rejected as spam"
    ]


def test_one_refused_recipient_is_reported_and_the_others_get_the_mail(tmp_path: Path) -> None:
    inbox = Inbox(refuse=frozenset({"gone@example.jp"}))
    paths = write_records(japanese_run(), seed_settings(), tmp_path, now=T0 + 60)
    with smtp_server(inbox) as port:
        settings = settings_for(port, mail_to=["ops@example.jp", "gone@example.jp"])
        problems = deliver(FleetRun([japanese_run()]), paths, settings)

    assert problems == [
        f"mail to ops@example.jp, gone@example.jp via 127.0.0.1:{port}: gone@example.jp refused it "
        "(550 5.1.1 no such user here); the others got it"
    ]
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["ops@example.jp"]


def test_a_record_that_cannot_be_read_is_left_out_and_the_mail_still_goes(
    tmp_path: Path, inbox: Inbox, smtp_port: int
) -> None:
    paths = write_records(japanese_run(), seed_settings("ja"), tmp_path, now=T0 + 60)
    paths[1].unlink()

    problems = deliver(FleetRun([japanese_run()]), paths, settings_for(smtp_port))

    assert problems == [f"record {paths[1]} not attached to the mail: No such file or directory"]
    [message] = inbox.messages()
    assert json_attachments(message) == {}
    assert FOUND_JA in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_without_record_files_the_mail_carries_the_summary(inbox: Inbox, smtp_port: int) -> None:
    fleet = FleetRun([japanese_run("web01"), failed_run("db01")])

    assert deliver(fleet, [], settings_for(smtp_port)) == []

    [message] = inbox.messages()
    assert message["Subject"] == "runbook: 2 hosts, 1 FAILED, 1 FIXED"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "• web01: FIXED, 2 LEFT (4 changes)" in text
    assert "• db01: FAILED (host error) — ssh: connection refused (port 22)" in text
    assert "No record files were written: see the run's own output." in text


def test_without_mail_to_or_webhook_nothing_is_tried(tmp_path: Path) -> None:
    paths = write_records(japanese_run(), seed_settings(), tmp_path, now=T0 + 60)
    with closed_port() as port:
        settings = build_notify_settings({}, smtp=f"127.0.0.1:{port}")
        assert deliver(FleetRun([japanese_run()]), paths, settings) == []


def test_settings_made_by_hand_that_cannot_work_are_reported_not_raised(tmp_path: Path) -> None:
    paths = write_records(japanese_run(), seed_settings(), tmp_path, now=T0 + 60)
    with closed_port() as port:
        settings = NotifySettings(
            mail_to=(Address(addr_spec="ops@example.jp"),), smtp=SmtpServer("127.0.0.1", port), timeout=-1.0
        )
        problems = deliver(FleetRun([japanese_run()]), paths, settings)

    [problem] = problems
    assert problem.startswith("mail not sent: ValueError: Timeout value")
