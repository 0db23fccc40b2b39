"""The webhook against a real HTTP server on loopback: the JSON that arrives, and what a failure says."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from notify_runs import failed_run, japanese_run
from notify_servers import Hook, Inbox, closed_port, http_hook, smtp_server
from record_seed import T0, seed_settings

from runbook.notify.deliver import deliver
from runbook.notify.settings import NotifySettings, build_notify_settings
from runbook.record import write_records
from runbook.results import FleetRun


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """urllib honours proxy variables; the hook is on loopback and must be reached directly."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def hook_settings(url: str, timeout: str = "5s") -> NotifySettings:
    return build_notify_settings({"timeout": timeout}, webhook=url)


def test_the_hook_receives_a_text_and_the_hosts_verdicts(tmp_path: Path) -> None:
    fleet = FleetRun([japanese_run("web01"), failed_run("db01<x>")], started=T0)
    paths = write_records(fleet, seed_settings(), tmp_path, now=T0 + 60)
    hook = Hook()
    with http_hook(hook) as url:
        problems = deliver(fleet, paths, hook_settings(url))

    assert problems == []
    [(path, headers, body)] = hook.requests
    assert path == "/hooks/T000/SECRET"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    payload = json.loads(body.decode("utf-8"))
    assert payload["text"].splitlines() == [
        "runbook: 2 hosts, 1 FAILED, 1 FIXED",
        "• web01: FIXED, 2 LEFT (4 changes)",
        "• db01&lt;x&gt;: FAILED (host error) — ssh: connection refused (port 22)",
        f"Records: {tmp_path.resolve()} on {payload['controller']}",
    ]
    assert payload["verdict"] == "FAILED"
    assert payload["counts"] == {"ok": 0, "changed": 1, "failed": 1, "skipped": 0}
    assert payload["hosts"] == [
        {
            "host": "web01",
            "outcome": "changed",
            "verdict": "FIXED, 2 LEFT (4 changes)",
            "error": None,
            "record": paths[0].name,
        },
        {
            "host": "db01<x>",
            "outcome": "failed",
            "verdict": "FAILED (host error)",
            "error": "ssh: connection refused (port 22)",
            "record": paths[2].name,
        },
    ]


def test_a_one_host_text_names_the_host_and_its_verdict_in_utf8(tmp_path: Path) -> None:
    run = japanese_run("ウェブ01")
    paths = write_records(run, seed_settings(), tmp_path, now=T0 + 60)
    hook = Hook()
    with http_hook(hook) as url:
        assert deliver(FleetRun([run]), paths, hook_settings(url)) == []

    [(_, _, body)] = hook.requests
    assert "ウェブ01".encode() in body
    assert json.loads(body)["text"].startswith(
        "runbook: ウェブ01 FIXED, 2 LEFT\n• ウェブ01: FIXED, 2 LEFT (4 changes)\n"
    )


def test_an_error_status_is_reported_without_the_secret_path(tmp_path: Path) -> None:
    paths = write_records(japanese_run(), seed_settings(), tmp_path, now=T0 + 60)
    hook = Hook(status=500)
    with http_hook(hook) as url:
        problems = deliver(FleetRun([japanese_run()]), paths, hook_settings(url))

    origin = url.split("/hooks/")[0]
    assert problems == [f"webhook {origin} answered HTTP 500 Internal Server Error"]
    assert "SECRET" not in problems[0]


def test_a_redirect_is_reported_not_followed(tmp_path: Path) -> None:
    paths = write_records(japanese_run(), seed_settings(), tmp_path, now=T0 + 60)
    hook = Hook(status=302, location="/elsewhere")
    with http_hook(hook) as url:
        problems = deliver(FleetRun([japanese_run()]), paths, hook_settings(url))

    assert problems == [f"webhook {url.split('/hooks/')[0]} answered HTTP 302 Found"]
    assert [path for path, _, _ in hook.requests] == ["/hooks/T000/SECRET"]


def test_a_hook_that_does_not_answer_is_reported_after_the_timeout(tmp_path: Path) -> None:
    paths = write_records(japanese_run(), seed_settings(), tmp_path, now=T0 + 60)
    hook = Hook(hang=threading.Event())
    with http_hook(hook) as url:
        problems = deliver(FleetRun([japanese_run()]), paths, hook_settings(url, timeout="0.3"))

    assert problems == [f"webhook {url.split('/hooks/')[0]} not reached: no answer within 0.3 s"]


def test_mail_and_hook_failing_together_are_both_reported_and_the_records_stay(tmp_path: Path) -> None:
    paths = write_records(japanese_run(), seed_settings(), tmp_path, now=T0 + 60)
    before = {p: p.read_bytes() for p in paths}
    with closed_port() as smtp_port, closed_port() as hook_port:
        settings = build_notify_settings(
            {"mail_to": ["ops@example.jp"], "smtp": f"127.0.0.1:{smtp_port}"},
            webhook=f"http://127.0.0.1:{hook_port}/hook",
        )
        problems = deliver(FleetRun([japanese_run()]), paths, settings)

    assert problems == [
        f"mail to ops@example.jp via 127.0.0.1:{smtp_port} not sent: "
        "connection refused (no SMTP server listens there)",
        f"webhook http://127.0.0.1:{hook_port} not reached: connection refused",
    ]
    assert {p: p.read_bytes() for p in paths} == before


def test_mail_and_hook_both_go_out_from_one_deliver(tmp_path: Path) -> None:
    paths = write_records(japanese_run(), seed_settings("ja"), tmp_path, now=T0 + 60)
    inbox, hook = Inbox(), Hook()
    with smtp_server(inbox) as port, http_hook(hook) as url:
        section = {"mail_to": "ops@example.jp", "smtp": f"127.0.0.1:{port}"}
        settings = build_notify_settings(section, webhook=url)
        assert deliver(FleetRun([japanese_run()]), paths, settings) == []

    assert len(inbox.envelopes) == 1
    assert len(hook.requests) == 1
    [message] = inbox.messages()
    assert "ntpd は停止していました。" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
