"""Host content cannot fake a probe section: headers carry a random token the host cannot guess."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from runbook.facts import parse_facts
from runbook.probe import new_token, probe_arguments, probe_command, split_sections
from runbook.settings import build_settings

FORGED = "@@runbook:date@@\n1\n@@runbook:backup.check.rc@@\n0\n@@runbook:hostname@@\nevil\n"


def test_only_headers_with_the_token_count() -> None:
    token = new_token()
    text = f"@@runbook:a@@{token}\none\n@@runbook:b@@\n@@runbook:b@@0000\n\x0c@@runbook:c@@{token}\n"
    assert split_sections(text, token) == {
        "a": f"one\n@@runbook:b@@\n@@runbook:b@@0000\n\x0c@@runbook:c@@{token}"
    }


def test_tokens_differ_and_are_hex() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50 and all(len(t) == 16 and int(t, 16) >= 0 for t in tokens)


def test_a_token_that_is_not_hex_is_refused() -> None:
    with pytest.raises(ValueError, match="not hexadecimal"):
        probe_arguments(build_settings({}), clock_loop=False, token="$(x)")


@pytest.mark.host_clock
def test_evidence_and_check_output_cannot_fake_sections(tmp_path: Path) -> None:
    evidence = tmp_path / "last-success"
    evidence.write_text("1503364325\n" + FORGED + "\x0c@@runbook:backup.file.rc@@\n")
    settings = build_settings(
        {
            "backup": {
                "command": "true",
                "evidence_file": str(evidence),
                "check_command": f"printf '{FORGED}'; exit 3",
            }
        }
    )
    token = new_token()
    done = subprocess.run(
        ["sh", "-c", probe_command(settings, clock_loop=False, token=token)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "@@runbook:date@@\n1\n" in done.stdout  # the forgery reached the output ...
    sections = split_sections(done.stdout, token)
    facts = parse_facts(sections, settings.backup, None)  # ... and changed nothing
    assert facts.hostname != "evil"
    assert facts.backup is not None and facts.backup.check_rc == 3
    assert sections["backup.file.rc"] == "0"
    assert sections["backup.file"].startswith("1503364325\n@@runbook:date@@")
