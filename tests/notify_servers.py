"""Real servers on loopback for the notify tests: an aiosmtpd SMTP server, an HTTP hook, a self-signed cert.

Every server listens on 127.0.0.1 only; nothing here reaches another address.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with closing(socket.socket()) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A fresh self-signed certificate for ``localhost`` and 127.0.0.1: ``(cert.pem, key.pem)``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "runbook test SMTP")])
    # OpenSSL checks validity against the machine's real clock, not the --controller-date one
    # this process may travel to: a span around any date the suite runs under.
    valid_from = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    valid_until = datetime.datetime(2099, 12, 31, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_until)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what arrives; ``data_reply``/``refuse`` make it say no."""

    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    tls_sessions: list[bool] = field(default_factory=list)
    data_reply: str = "250 OK: queued"
    refuse: frozenset[str] = frozenset()
    password: str = "s3cret"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply.startswith("250"):
            self.envelopes.append(envelope)
            self.tls_sessions.append(session.ssl is not None)
        return self.data_reply

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        user, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((mechanism, user, password))
        return AuthResult(success=password == self.password, handled=False)

    def messages(self) -> list[EmailMessage]:
        """Every message that arrived, parsed as a mail client would."""
        parser = BytesParser(policy=policy.default)
        parsed = []
        for envelope in self.envelopes:
            assert isinstance(envelope.original_content, bytes)
            message = parser.parsebytes(envelope.original_content)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed


@contextmanager
def smtp_server(inbox: Inbox, *, tls_cert: tuple[Path, Path] | None = None, login: str = "") -> Iterator[int]:
    """An SMTP server on loopback delivering to ``inbox``; yields its port.

    ``tls_cert`` offers STARTTLS (and requires it); ``login`` (``LOGIN`` or ``PLAIN``) requires
    that AUTH mechanism, the only one offered.
    """
    options: dict[str, Any] = {"server_hostname": "localhost"}
    if tls_cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls_cert)
        options |= {"tls_context": context, "require_starttls": True}
    if login:
        others = [m for m in ("LOGIN", "PLAIN") if m != login]
        options |= {
            "authenticator": inbox.authenticate,
            "auth_required": True,
            "auth_exclude_mechanism": others,
        }
    controller = Controller(inbox, hostname=LOOPBACK, port=free_port(), **options)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP listener on loopback that accepts and never says a word; yields its port."""
    with closing(socket.socket()) as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen()
        yield listener.getsockname()[1]


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening, so connecting to it is refused; yields it."""
    with closing(socket.socket()) as bound:
        bound.bind((LOOPBACK, 0))
        yield bound.getsockname()[1]


@dataclass
class Hook:
    """What an HTTP hook received, and how it answers (``status``, ``location``, ``hang``)."""

    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    status: int = 200
    location: str = ""
    hang: threading.Event | None = None


@contextmanager
def http_hook(hook: Hook) -> Iterator[str]:
    """A loopback HTTP server recording each POST into ``hook``; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            hook.requests.append((self.path, dict(self.headers.items()), body))
            if hook.hang is not None:
                hook.hang.wait(timeout=30)
                return
            self.send_response(hook.status)
            if hook.location:
                self.send_header("Location", hook.location)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads ``hook.requests``."""

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}/hooks/T000/SECRET"
    finally:
        if hook.hang is not None:
            hook.hang.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
