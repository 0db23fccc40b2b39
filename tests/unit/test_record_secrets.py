"""Secrets in cron lines and command output are masked in the Markdown, the JSON record and the journal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sample_run import T0, cmd, seed_run, seed_settings

from runbook.errors import SettingsError
from runbook.record import Journal, load_journal, render_host, write_records
from runbook.record.redact import MASK, Redactor
from runbook.results import HostRun, Outcome, StepResult
from runbook.settings import build_settings, with_overrides

SECRETS = {
    "0 3 * * * root mysqldump -uroot -pS3cretPw shop > /var/backups/shop.sql": "S3cretPw",
    "mysql --password=hunter2 -e 'select 1'": "hunter2",
    "PGPASSWORD=pg-pass-1 pg_dump shop": "pg-pass-1",
    "curl -fsS https://backup:Tr0ub4dor@files.example.jp/upload": "Tr0ub4dor",
    "curl -H 'Authorization: Bearer eyJhbGciOi.abc' https://api.example.jp/": "eyJhbGciOi.abc",
    "X-Api-Key: zzz-custom-key-9": "zzz-custom-key-9",
}


def leaky_run() -> HostRun:
    run = seed_run()
    lines = "\n".join(SECRETS)
    jobs = {
        "window": {
            "start": "2017-08-21T17:00:00+00:00",
            "end": "2017-08-21T20:00:00+00:00",
            "source": "given",
        },
        "missed": [
            {"id": f"/etc/cron.d/x:{n}", "user": "root", "command": line} for n, line in enumerate(SECRETS)
        ],
    }
    run.results.append(
        StepResult(
            "missed_jobs",
            Outcome.OK,
            f"due: {lines}",
            [cmd("cat /etc/cron.d/shop", 0, 59.0, 0.1, lines + "\n")],
            T0 + 59,
            0.1,
            jobs,
            warnings=[f"saw {lines}"],
            kind="missed_jobs",
        )
    )
    run.error = "sudo said: sudo-pw-123 is wrong"
    return run


def test_masked_in_markdown_json_and_journal(tmp_path: Path) -> None:
    settings = with_overrides(
        seed_settings(), {"redact": [r"X-Api-Key: (\S+)"], "sudo_password": "sudo-pw-123", "details": "full"}
    )
    run = leaky_run()
    journal_path = tmp_path / "run.jsonl"
    with Journal(journal_path) as journal:
        journal.run_started([run.host], settings)
        journal.host_started(run)
        for result in run.results:
            journal.step_finished(run, result)
        journal.host_finished(run)
    paths = write_records(run, settings, tmp_path)
    written = {path.suffix: path.read_text() for path in [*paths, journal_path]}
    assert set(written) == {".md", ".json", ".jsonl"}
    for suffix, text in written.items():
        for secret in [*SECRETS.values(), "sudo-pw-123"]:
            assert secret not in text, (suffix, secret)
        assert MASK in text
    assert "mysqldump -uroot -p*** shop" in written[".md"]
    assert "https://backup:***@files.example.jp/upload" in written[".md"]
    json.loads(written[".json"])
    rebuilt = load_journal(journal_path).runs[0]
    assert "PGPASSWORD=*** pg_dump shop" in rebuilt.results[-1].data["missed"][2]["command"]


def test_ordinary_options_are_left_alone() -> None:
    redactor = Redactor()
    for text in ("mkdir -p /var/backups", "ssh -p 22 host", "find / -print", "tar -pczf x.tgz y", "ntpq -pn"):
        assert redactor.text(text) == text


def test_the_probes_crontab_bytes_are_not_kept() -> None:
    crontab_hex = " 30 20 2a 20 6d 79 73 71 6c\n"
    out = f"@@runbook:hostname@@ab\nweb01\n@@runbook:cron@@ab\n{crontab_hex}@@runbook:date@@ab\n1\n"
    masked = Redactor().command(cmd("printf '@@runbook:%s@@'; …", 0, 0, 0.1, out))
    assert "6d 79 73" not in masked.stdout
    assert masked.stdout.startswith("@@runbook:hostname@@ab\nweb01\n@@runbook:cron@@ab\n(crontabs not kept")
    assert masked.stdout.endswith("@@runbook:date@@ab\n1\n")
    assert Redactor().command(cmd("cat notes", 0, 0, 0.1, out)).stdout == out  # not the runbook's script


def test_a_redact_pattern_that_is_no_regular_expression_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"redact pattern '\(unclosed' is not a regular expression"):
        build_settings({"redact": ["(unclosed"]})
    assert build_settings({"redact": "token=(\\w+)"}).records.redact == ("token=(\\w+)",)


def test_a_custom_template_is_given_the_masked_run(tmp_path: Path) -> None:
    (tmp_path / "host.md.j2").write_text("{{ run.error }}|{{ run.results[-1].commands[0].stdout }}")
    run = leaky_run()
    settings = with_overrides(
        seed_settings(), {"sudo_password": "sudo-pw-123", "redact": [r"X-Api-Key: (\S+)"]}
    )
    md = render_host(run, settings, template_dir=tmp_path, now=T0)
    assert md.startswith("sudo said: *** is wrong|")
    assert all(secret not in md for secret in SECRETS.values())
