"""Secrets masked before anything is written: Markdown, JSON record and journal alike.

Built in: ``-pSECRET`` (mysql and friends), ``--password=…`` / ``--token …`` style options,
``PASSWORD=…`` style variables, credentials in URLs (``https://user:SECRET@host``) and
``Authorization:`` headers. The ``redact:`` setting adds regular expressions: what one
matches is replaced by ``***``, or only its first group when it has groups. The sudo
password, when set, is masked wherever it appears. The probe's cron section (crontab bytes,
hex-encoded, which no pattern can read) is replaced by a note: the missed cron jobs step keeps
the crontabs as parsed entries, masked like everything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from runbook.results import CommandRecord, HostRun, StepResult
from runbook.settings import Settings

MASK = "***"
BUILT_IN = (
    (r"\b(?:mysql\w*|mariadb[\w-]*)\b[^\n|;&]*?\s-p([^\s'\"]+)", ("mysql", "mariadb")),
    (
        r"(?i)--(?:password|passwd|pass|token|secret|api-key)[= ]([^\s'\"]+)",
        ("--pass", "--token", "--secret", "--api"),
    ),
    (
        r"(?i)\b[A-Z_]*(?:PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_KEY)[A-Z_]*=([^\s'\";]+)",
        ("pass", "pwd", "secret", "token", "api_key"),
    ),
    (r"\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:([^@\s/]+)@", ("://",)),
    (r"(?i)\bAuthorization:\s*(?:(?:Basic|Bearer|Token|Digest)\s+)?([^\s'\"]+)", ("authorization",)),
)
"""Each pattern with the words (lower case) a text must contain for it to be tried."""
_CRON_SECTION = re.compile(r"(@@runbook:cron@@[0-9a-f]*\n)(.*?)(?=@@runbook:|\Z)", re.S)
CRON_NOTE = "(crontabs not kept as bytes: the missed cron jobs step has them as parsed entries)\n"


class Redactor:
    """Masks secrets in text, and in every string of a run (commands, output, messages, data)."""

    def __init__(self, extra: Iterable[str] = (), literals: Iterable[str | None] = ()) -> None:
        self.patterns: list[tuple[re.Pattern[str], tuple[str, ...]]]
        self.patterns = [(re.compile(p), words) for p, words in BUILT_IN]
        self.patterns += [(re.compile(p), ()) for p in extra]
        self.literals = sorted(
            {value for value in literals if value and len(value) >= 4}, key=len, reverse=True
        )

    def text(self, value: str) -> str:
        """``value`` with every secret replaced by ``***``."""
        for literal in self.literals:
            value = value.replace(literal, MASK)
        lower = value.lower()
        for pattern, words in self.patterns:
            if not words or any(word in lower for word in words):
                value = pattern.sub(_masker, value)
        return value

    def value(self, value: Any) -> Any:
        """A JSON-shaped value with its strings masked."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        return value

    def command(self, command: CommandRecord) -> CommandRecord:
        stdout = command.stdout
        if "@@runbook:" in command.command:  # the runbook's own script: its cron section holds crontabs
            stdout = _CRON_SECTION.sub(lambda m: m.group(1) + CRON_NOTE, stdout)
        return replace(
            command,
            command=self.text(command.command),
            stdout=self.text(stdout),
            stderr=self.text(command.stderr),
            note=self.text(command.note),
        )

    def result(self, result: StepResult) -> StepResult:
        return replace(
            result,
            message=self.text(result.message),
            commands=[self.command(c) for c in result.commands],
            data=self.value(result.data),
            warnings=[self.text(w) for w in result.warnings],
        )

    def run(self, run: HostRun) -> HostRun:
        return replace(
            run,
            results=[self.result(r) for r in run.results],
            error=None if run.error is None else self.text(run.error),
            facts=self.value(run.facts),
        )


def _masker(match: re.Match[str]) -> str:
    if match.re.groups == 0:
        return MASK
    whole, start = match.group(0), match.start(0)
    return whole[: match.start(1) - start] + MASK + whole[match.end(1) - start :]


def redactor_for(settings: Settings) -> Redactor:
    """The built-in patterns, the ``redact:`` setting's and the sudo password."""
    return Redactor(settings.records.redact, (settings.ssh.sudo_password,))
