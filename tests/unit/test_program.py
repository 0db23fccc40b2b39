"""The runbook console script: only runbook commands, only core options that work, usage errors exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

DROPPED = (
    "--dry",
    "-R",
    "--prompt-for-sudo-password",
    "--command-timeout",
    "-T",
    "--warn-only",
    "-w",
    "--pty",
    "-p",
    "--echo",
    "-e",
    "--hide",
)


def runbook(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from runbook.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_offers_only_what_works() -> None:
    shown = runbook("--help")
    assert shown.returncode == 0, shown.stderr
    words = shown.stdout.replace(",", " ").split()
    for option in DROPPED:
        assert option not in words, option
    assert "lab.up" not in shown.stdout and "post-maint" in shown.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("post-maint", "--dryrun"),
            "runbook: unknown option --dryrun (did you mean --dry-run?); see --help",
        ),
        (("postmaint",), "runbook: unknown command 'postmaint' (did you mean post-maint?); see --list"),
        (
            ("post-maint", "--ssh-config"),
            "runbook: option --ssh-config needs a value (--ssh-config VALUE); see --help",
        ),
        (("-R", "post-maint", "--host", "web1"), "runbook: unknown option -R; see --help"),
        (("--prompt-for-sudo-password", "post-maint"), "runbook: unknown option --prompt-for-sudo-password"),
    ],
)
def test_usage_mistakes_are_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    done = runbook(*args)
    assert done.returncode == 2, done
    assert done.stderr.splitlines() == [done.stderr.strip()], done.stderr
    assert done.stderr.startswith(message), done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--lang", "fr"), "runbook: lang 'fr' is not one of en, ja"),
        (("--details", "all"), "runbook: details 'all' is not one of brief, full"),
        (("--timezone", "Mars/Base"), "runbook: unknown time zone 'Mars/Base'"),
        (("--window", "2017-08-22 02:00..05:00 Mars/Base"), "runbook: unknown time zone 'Mars/Base'"),
    ],
)
def test_record_options_are_checked_before_any_host(args: tuple[str, ...], message: str) -> None:
    done = runbook("post-maint", "--host", "web1", *args)
    assert done.returncode == 2, done
    assert done.stderr.startswith(message), done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("post-maint", "--host", "web1", "--before", "/nonexistent/web1-before.json"),
            "runbook: --before /nonexistent/web1-before.json: no such file; give an existing file",
        ),
        (
            ("pre-maint", "--host", "web1", "--ssh-config", "/nonexistent/ssh_config"),
            "runbook: --ssh-config /nonexistent/ssh_config: no such file; give an existing file",
        ),
    ],
)
def test_before_after_usage_errors_exit_2_in_one_line(args: tuple[str, ...], message: str) -> None:
    done = runbook(*args)
    assert done.returncode == 2
    assert done.stderr.strip() == message
