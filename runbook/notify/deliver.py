"""``deliver``: after the records are written, send the run's result by mail and to a webhook.

Delivery only reads the record files: a failure to send is returned as one-line problems for
the caller to print, and the records on disk stay as they were.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runbook.notify.mail import compose_mail, send_mail
from runbook.notify.settings import NotifySettings
from runbook.notify.summary import RunSummary, summarise
from runbook.notify.webhook import post_webhook, webhook_payload
from runbook.record import text
from runbook.results import FleetRun

RULE = "=" * 72


@dataclass(frozen=True)
class RecordFiles:
    """A run's record files as ``write_records`` returns them, the fleet summary put first."""

    markdown: tuple[Path, ...]
    json: tuple[Path, ...]
    host_records: dict[int, str]

    @classmethod
    def of(cls, fleet: FleetRun, paths: Sequence[Path]) -> RecordFiles:
        """Split ``paths`` (each host's ``.md`` and ``.json`` in fleet order, then the summary's)."""
        paths = list(paths)
        summary: list[Path] = []
        if len(fleet.runs) > 1 and len(paths) >= 2 and all(p.name.startswith("fleet-") for p in paths[-2:]):
            summary, paths = paths[-2:], paths[:-2]
        hosts_md = [p for p in paths if p.suffix == ".md"]
        names = {i: p.name for i, p in enumerate(hosts_md)} if len(hosts_md) == len(fleet.runs) else {}
        ordered = summary + paths
        return cls(
            markdown=tuple(p for p in ordered if p.suffix == ".md"),
            json=tuple(p for p in ordered if p.suffix == ".json"),
            host_records=names,
        )

    def where(self) -> str:
        """Where the records are, as a line for people: folder and machine."""
        folders = sorted({str(p.parent.resolve()) for p in (*self.markdown, *self.json)})
        if not folders:
            return "No record files were written: see the run's own output."
        return f"Records: {', '.join(folders)} on {socket.gethostname()}"


def deliver(fleet: FleetRun, records: Sequence[Path], settings: NotifySettings) -> list[str]:
    """Send ``fleet``'s result: one mail to ``settings.mail_to`` and/or one webhook POST.

    ``records`` are the paths ``runbook.record.write_records`` returned (possibly none, if
    writing failed). Returns one line per problem (``[]`` when all went out); never raises for
    a delivery failure, and never writes to the records.
    """
    if not settings.enabled:
        return []
    files = RecordFiles.of(fleet, records)
    summary = summarise(fleet, files.host_records)
    problems: list[str] = []
    if settings.mail_to:
        try:
            problems += _mail(summary, files, settings)
        except Exception as exc:  # the contract: a delivery failure is reported, never raised
            problems.append(f"mail not sent: {type(exc).__name__}: {text.one_line(str(exc))}")
    if settings.webhook is not None:
        try:
            problems += post_webhook(webhook_payload(summary, files.where()), settings)
        except Exception as exc:  # the contract: a delivery failure is reported, never raised
            problems.append(f"webhook not posted: {type(exc).__name__}: {text.one_line(str(exc))}")
    return problems


def _mail(summary: RunSummary, files: RecordFiles, settings: NotifySettings) -> list[str]:
    """Compose and send the mail; a record that cannot be read is left out, and said so."""
    problems: list[str] = []
    texts: list[str] = []
    for path in files.markdown:
        try:
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            problems.append(f"record {path} left out of the mail: {exc.strerror or exc}")
    attachments: list[tuple[str, bytes]] = []
    for path in files.json:
        try:
            attachments.append((path.name, path.read_bytes()))
        except OSError as exc:
            problems.append(f"record {path} not attached to the mail: {exc.strerror or exc}")
    body = f"\n{RULE}\n\n".join(t.rstrip("\n") + "\n" for t in texts) if texts else summary.plain_text("")
    signature = f"\n-- \nSent by runbook. {files.where()}\n"
    message = compose_mail(summary, body.rstrip("\n") + "\n" + signature, attachments, settings)
    return problems + send_mail(message, settings)
