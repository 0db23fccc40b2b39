"""check_site against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fabric import Connection
from invoke.context import MockContext

from runbook.errors import SettingsError
from runbook.results import Outcome
from runbook.session import attach
from runbook.settings import Settings, with_overrides
from runbook.steps.site import check_site, expand_url


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 503 if self.path == "/down" else 200
        body = b"<h1>shop open</h1>"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _context(**settings: Any) -> MockContext:
    c = MockContext()
    attach(c, with_overrides(Settings(), settings))
    return c


def test_site_answers(server: str) -> None:
    result = check_site(_context(urls=(f"{server}/",), expect_text="shop open"))
    assert result.outcome is Outcome.OK
    assert result.data["checks"][0]["status"] == 200
    assert result.data["checks"][0]["text_found"] is True
    assert "200 in" in result.message


def test_error_status_fails_with_the_status(server: str) -> None:
    result = check_site(_context(urls=(f"{server}/", f"{server}/down")))
    assert result.outcome is Outcome.FAILED
    assert "HTTP 503" in result.message
    assert [check["status"] for check in result.data["checks"]] == [200, 503]


def test_missing_text_fails(server: str) -> None:
    result = check_site(_context(urls=(f"{server}/",)), expect_text="closed")
    assert not result
    assert "expected text 'closed' not in the page" in result.message


def test_no_answer_fails_clearly() -> None:
    result = check_site(_context(urls=("http://127.0.0.1:9/",), http_timeout=2.0))
    assert result.failed
    assert "no answer" in result.message


def test_no_url_is_skipped() -> None:
    assert check_site(_context()).outcome is Outcome.SKIPPED


def test_placeholders_are_host_and_address() -> None:
    c = Connection("web1")
    c.host = "203.0.113.10"
    assert expand_url("http://{address}/?h={host}", c) == "http://203.0.113.10/?h=web1"
    with pytest.raises(SettingsError, match=r"only \{host\} and \{address\}"):
        expand_url("http://{addr}/", c)
