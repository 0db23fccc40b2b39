"""The backup fact: the evidence file's last success and the check command's exit code."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from runbook.settings import BackupSettings, Settings
from runbook.shell import section_rc


@dataclass(frozen=True)
class BackupEvidence:
    """The backup's evidence: last success (epoch, from the file), check exit code, what was seen."""

    last_success: float | None
    check_rc: int | None
    output: str = ""
    error: str | None = None


def backup_arguments(settings: Settings) -> tuple[str, ...]:
    """The probe's ``backup.sh`` arguments: the evidence file and the check command (``""``: none)."""
    backup = settings.backup
    if backup is None:
        return ("", "")
    return (backup.evidence_file or "", backup.check_command or "")


def parse_timestamp(text: str) -> float | None:
    """Epoch seconds from the last line that is epoch seconds or ISO 8601 (naive = UTC)."""
    for line in reversed(text.splitlines()):
        value = line.strip()
        if re.fullmatch(r"\d{1,12}(\.\d+)?", value):
            return float(value)
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    return None


def parse_backup(sections: Mapping[str, str], backup: BackupSettings) -> BackupEvidence:
    """The backup evidence: the file's timestamp and/or the check command's exit code and output."""
    last: float | None = None
    errors: list[str] = []
    output: list[str] = []
    if backup.evidence_file:
        text = sections.get("backup.file", "")
        rc = section_rc(sections.get("backup.file.rc"))
        if rc != 0:
            seen = text.strip()[-200:] or "no output"
            errors.append(f"evidence file {backup.evidence_file} unreadable: {seen}")
        else:
            last = parse_timestamp(text)
            if last is None:
                seen = text.strip()[:80]
                errors.append(f"evidence file {backup.evidence_file} holds no timestamp: {seen!r}")
        output.append(text)
    check_rc: int | None = None
    if backup.check_command:
        check_rc = section_rc(sections.get("backup.check.rc"))
        output.append(sections.get("backup.check", ""))
        if check_rc is None:
            errors.append("the check command did not report an exit code")
    return BackupEvidence(
        last_success=last,
        check_rc=check_rc,
        output="\n".join(part for part in output if part).strip(),
        error="; ".join(errors) or None,
    )
