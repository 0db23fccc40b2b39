"""A run's result in a few words, for a mail subject and a chat message.

One host: ``web01 FIXED, 2 LEFT``; a fleet: ``12 hosts, 2 FAILED, 3 FIXED``. Each host's
verdict is its record's (``runbook.record.model.verdict_of``), so the mail says what the record
says; a host that could not be worked on also says why (its error, on one short line).
"""

from __future__ import annotations

from dataclasses import dataclass

from runbook.record import model, text
from runbook.results import FleetRun, HostRun, Outcome

HOST_LINES = 20
ERROR_LIMIT = 80  # a host error in a host's line, so twenty of them fit in TEXT_LIMIT
TEXT_LIMIT = 1900  # Discord's hooks take 2,000 characters; Slack and Mattermost more


@dataclass(frozen=True)
class HostVerdict:
    """One host's result: ``outcome`` as in its JSON record, ``label`` as in its title, its ``error``."""

    host: str
    outcome: str
    label: str
    record: str | None
    error: str | None = None

    @property
    def word(self) -> str:
        """The label without its details: ``FIXED``, ``DRY RUN, FAILED`` …"""
        return self.label.split(" (", 1)[0]

    @property
    def line(self) -> str:
        """The label, then the host error that made it FAILED: ``FAILED (host error) — ssh: …``."""
        return f"{self.label} — {self.error}" if self.error else self.label


@dataclass(frozen=True)
class RunSummary:
    """The whole run: a headline, the worst verdict, and every host's."""

    headline: str
    verdict: str
    hosts: tuple[HostVerdict, ...]
    dry_run: bool
    stopped: str | None

    def counts(self) -> dict[str, int]:
        """Hosts per outcome, every outcome present."""
        tally = {outcome.value: 0 for outcome in Outcome}
        for host in self.hosts:
            tally[host.outcome] += 1
        return tally

    def chat_text(self, where: str) -> str:
        """``plain_text`` escaped for chat hooks (Slack's ``&amp;``, ``&lt;``, ``&gt;``)."""
        return _slack_escaped(self.plain_text(where))

    def plain_text(self, where: str) -> str:
        """Headline, the hosts that were not plain OK (every host of a one-host run), and ``where``."""
        lines = [f"runbook: {self.headline}"]
        notable = [h for h in self.hosts if h.outcome != Outcome.OK.value or len(self.hosts) == 1]
        lines += [f"• {text.one_line(h.host)}: {h.line}" for h in notable[:HOST_LINES]]
        if len(notable) > HOST_LINES:
            lines.append(f"… and {len(notable) - HOST_LINES} more")
        if self.stopped:
            lines.append(f"Stopped early: {text.one_line(self.stopped)}")
        lines.append(where)
        whole = "\n".join(lines)
        if len(whole) > TEXT_LIMIT:
            whole = whole[: TEXT_LIMIT - 2] + " …"
        return whole


def summarise(fleet: FleetRun, record_names: dict[int, str] | None = None) -> RunSummary:
    """``fleet``'s summary; ``record_names`` maps a run's index in ``fleet.runs`` to its record's name."""
    names = record_names or {}
    dry = any(r.dry_run for run in fleet.runs for r in run.results)
    hosts = tuple(_verdict(run, dry, names.get(i)) for i, run in enumerate(fleet.runs))
    verdict = _worst(fleet.runs, dry)
    if len(hosts) == 1:
        headline = f"{text.one_line(hosts[0].host)} {hosts[0].word}"
    else:
        headline = _fleet_headline(fleet.runs, dry)
    return RunSummary(headline, verdict, hosts, dry, fleet.stopped)


def _verdict(run: HostRun, dry: bool, record: str | None) -> HostVerdict:
    error = text.compact(text.one_line(run.error), ERROR_LIMIT) if run.error else None
    return HostVerdict(run.host, run.outcome.value, model.verdict_of(run, dry), record, error)


def _worst(runs: list[HostRun], dry: bool) -> str:
    prefix = "DRY RUN, " if dry else ""
    if any(run.interrupted for run in runs):
        return f"{prefix}INTERRUPTED"
    if any(run.outcome is Outcome.FAILED for run in runs):
        return f"{prefix}FAILED"
    if dry:
        return "DRY RUN"
    if any(run.outcome is Outcome.CHANGED for run in runs):
        return "FIXED"
    if runs and all(run.outcome is Outcome.SKIPPED for run in runs):
        return "SKIPPED"
    return "OK"


def _fleet_headline(runs: list[HostRun], dry: bool) -> str:
    interrupted = sum(run.interrupted for run in runs)
    failed = sum(run.outcome is Outcome.FAILED and not run.interrupted for run in runs)
    changed = sum(run.outcome is Outcome.CHANGED for run in runs)
    parts = [f"{len(runs)} hosts"]
    if dry:
        parts.append("DRY RUN")
    if interrupted:
        parts.append(f"{interrupted} INTERRUPTED")
    if failed:
        parts.append(f"{failed} FAILED")
    if changed:
        parts.append(f"{changed} would change" if dry else f"{changed} FIXED")
    if not dry and runs and all(run.outcome is Outcome.SKIPPED for run in runs):
        return f"{parts[0]}, every step SKIPPED"
    if len(parts) == 1 or (dry and len(parts) == 2):
        return f"{', '.join(parts)}, nothing to change" if dry else f"{parts[0]} OK"
    return ", ".join(parts)


def _slack_escaped(message: str) -> str:
    """``&``, ``<`` and ``>`` as Slack's message format wants them (``<`` would start a link)."""
    return message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
