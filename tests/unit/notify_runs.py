"""Runs for the notify tests: the seed run with Japanese in its record, and a host never reached."""

from __future__ import annotations

from record_seed import T0, seed_run

from runbook.results import HostRun

JAPANESE = "トップページ「株式会社サンプル」を確認しました"


def japanese_run(host: str = "web01.example.jp") -> HostRun:
    """The seed run, with a site check message in Japanese (as a site's title would be)."""
    run = seed_run()
    run.host = host
    site = run.result("check_site")
    assert site is not None
    site.message = f"https://www.example.jp/ 200 in 184 ms — {JAPANESE}"
    return run


def failed_run(host: str) -> HostRun:
    return HostRun(host=host, started=T0 + 1, finished=T0 + 11, error="ssh: connection refused (port 22)")
