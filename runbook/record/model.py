"""What a host's record says, worked out from its ``HostRun``'s typed step data (``runbook.stepdata``).

No step is looked up by name: the clock before is the first ``ClockCheck``, the clock after
the last ``ClockVerify``, and so on, so a custom runbook's steps that declare those types
fill the same rows. Text is in the record's language (``Language``) and plain (not yet
escaped for Markdown): templates apply the ``cell``, ``text``, ``code`` and ``fence`` filters.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from runbook import stepdata
from runbook.record import text
from runbook.record.language import Language
from runbook.record.missed import MissedJobsView, missed_view, rerun_command
from runbook.record.redact import redactor_for
from runbook.results import CommandRecord, HostRun, Outcome, StepResult
from runbook.settings import Settings
from runbook.stepdata import (
    BackupRerun,
    ClockCheck,
    ClockSync,
    ClockVerify,
    DaemonBoot,
    DaemonRestart,
    MissedJobs,
    RtcWrite,
    SinceBefore,
    SiteAnswers,
)

_INIT_NAMES = {"sysv": "SysV init", "systemd": "systemd", "openrc": "OpenRC"}
NOTE_LIMIT = 160
FORMAT = "runbook-record/2"
PANIC_THRESHOLD = "panic threshold"
"""Warnings about ntpd's panic threshold: the record says it once, as the ``-g`` item left."""
PLUMBING = "@@runbook:"
"""Commands that print this section marker are the runbook's own scripts (probe, cron reader, waits)."""
_SECTION = re.compile(r"^@@runbook:([A-Za-z0-9._-]+)@@[0-9a-f]*$", re.M)
ADMIN_SECTIONS = {
    "sync.ntpq": ("ntpq -pn", frozenset({"ntpd", "ntpsec"})),
    "sync.ntpstat": ("ntpstat", frozenset({"ntpd", "ntpsec"})),
    "sync.chronyc": ("chronyc -n tracking", frozenset({"chronyd"})),
    "sync.timedatectl": ("timedatectl show", frozenset({"systemd-timesyncd"})),
}
"""Sections of the runbook's scripts that are a command an admin would type, shown as that command
when the host's time daemon is one it is about (all of them for a daemon none is about): the probe
asks every systemd host's timedatectl, which on a chrony host without D-Bus only says "Failed to
connect to bus"."""


def step_title(name: str) -> str:
    """A step's title from its name, for results made before steps declared one."""
    return name.replace("_", " ").replace("-", " ").strip() or "step"


@functools.cache
def runbook_version() -> str:
    """The installed runbook's version (looked up once: reading package metadata is slow)."""
    try:
        return importlib.metadata.version("runbook")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class StepView:
    """One step as shown in the table and its Details section."""

    number: int
    name: str
    title: str
    outcome: str
    failed: bool
    took: str
    note: str
    message: str
    warnings: list[str]
    data: list[tuple[str, str]]
    commands: list[str]
    console: str
    hidden: int


@dataclass
class LeftItem:
    """Something still open, with the next action (``command``: a command line to run, if any)."""

    text: str
    command: str = ""


@dataclass
class HostRecord:
    """Everything a host's Markdown record shows, as plain text in the record's language."""

    host: str
    outcome: str
    label: str
    title: str
    header: list[tuple[str, str]]
    result: str
    found: list[str]
    done: list[str]
    left: list[LeftItem]
    before_after: list[tuple[str, str, str]]
    steps: list[StepView]
    error: str | None
    interrupted: bool
    dry_run: bool
    details: str
    lang: str
    clock: dict[str, Any] = field(default_factory=dict)
    missed: MissedJobsView | None = None
    json_name: str | None = None
    journal_name: str | None = None
    rendered: str = ""
    run: HostRun | None = None
    """The run with its secrets masked: what the templates and the JSON record are given."""


@dataclass
class Story:
    """The typed data of one run, found by type."""

    run: HostRun
    before: ClockCheck | None
    after: ClockVerify | None
    restart: tuple[StepResult, DaemonRestart] | None
    sync: tuple[StepResult, ClockSync] | None
    boot: tuple[StepResult, DaemonBoot] | None
    rtc: tuple[StepResult, RtcWrite] | None
    backup: tuple[StepResult, BackupRerun] | None
    missed: tuple[StepResult, MissedJobs] | None
    site: tuple[StepResult, SiteAnswers] | None
    since: tuple[StepResult, SinceBefore] | None

    @property
    def daemon(self) -> str:
        for item in (self.boot, self.restart):
            if item is not None and item[1].daemon:
                return item[1].daemon
        return str(self.run.facts.get("daemon") or "") or "ntpd"


def story_of(run: HostRun) -> Story:
    typed = stepdata.typed(run.results)
    before = stepdata.first(typed, ClockCheck)
    after = stepdata.last(typed, ClockVerify)
    if after is not None and (after[0].dry_run or after[0].outcome is Outcome.SKIPPED):
        after = None
    return Story(
        run=run,
        before=before[1] if before else None,
        after=after[1] if after else None,
        restart=stepdata.first(typed, DaemonRestart),
        sync=stepdata.first(typed, ClockSync),
        boot=stepdata.first(typed, DaemonBoot),
        rtc=stepdata.first(typed, RtcWrite),
        backup=stepdata.first(typed, BackupRerun),
        missed=stepdata.first(typed, MissedJobs),
        site=stepdata.first(typed, SiteAnswers),
        since=stepdata.last(typed, SinceBefore),
    )


def is_dry(run: HostRun, settings: Settings) -> bool:
    return settings.dry_run or any(r.dry_run for r in run.results)


def outcome_word(result: StepResult, lang: Language) -> str:
    if result.dry_run and result.outcome is Outcome.CHANGED:
        return lang._("would change")
    return {
        Outcome.OK: lang._("ok"),
        Outcome.CHANGED: lang._("changed"),
        Outcome.FAILED: lang._("failed"),
        Outcome.SKIPPED: lang._("skipped"),
    }[result.outcome]


def title_of(result: StepResult, lang: Language) -> str:
    return lang._(result.title or step_title(result.step))


def label(run: HostRun, dry: bool, left: int, lang: Language) -> str:
    """The title's verdict: ``FIXED, 2 LEFT (4 changes)``, ``OK (nothing to do)``, ``FAILED (…)`` …"""
    changes = sum(r.changed for r in run.results)
    failed = [title_of(r, lang) for r in run.results if r.failed]
    made = lang.n("%(n)d change made", "%(n)d changes made", changes) if changes else ""
    if run.interrupted:
        after = lang.n("after %(n)d step", "after %(n)d steps", len(run.results))
        return lang._("INTERRUPTED (%(why)s)", why="; ".join(filter(None, [after, made])))
    if run.error or failed:
        why = lang._("host error") if run.error else lang._("%(steps)s failed", steps=lang.join(failed))
        return lang._("FAILED (%(why)s)", why="; ".join(filter(None, [why, made])))
    if dry:
        return lang.n("DRY RUN (would change %(n)d)", "DRY RUN (would change %(n)d)", changes)
    if changes and left:
        return lang.n(
            "FIXED, %(left)d LEFT (%(n)d change)", "FIXED, %(left)d LEFT (%(n)d changes)", changes, left=left
        )
    if changes:
        return lang.n("FIXED (%(n)d change)", "FIXED (%(n)d changes)", changes)
    if left:
        return lang.n("OK, %(n)d LEFT", "OK, %(n)d LEFT", left)
    if run.results and all(r.outcome is Outcome.SKIPPED for r in run.results):
        return lang._("SKIPPED (every step skipped)")
    return lang._("OK (nothing to do)")


def verdict_of(run: HostRun, dry: bool, lang: Language | None = None) -> str:
    """``run``'s verdict as its record's title says it, what is left counted as the record counts it."""
    lang = lang or Language("en")
    story = story_of(run)
    view = missed_view(story.missed[1], lang, UTC, _fresh_backup(story)) if story.missed else None
    return label(run, dry, len(left_items(story, lang, view, dry)), lang)


def result_sentence(run: HostRun, dry: bool, left: int, lang: Language) -> str:
    changed = sum(r.changed for r in run.results)
    failed = [title_of(r, lang) for r in run.results if r.failed]
    if run.interrupted:
        return lang._("Interrupted: the run did not finish; what ran is recorded below.")
    if run.error:
        return lang._("Failed: the host could not be worked on.")
    if failed:
        return lang._("Failed: %(steps)s failed.", steps=lang.join(failed))
    if dry:
        return lang.n(
            "Dry run: %(n)d step would change the host; nothing was changed.",
            "Dry run: %(n)d steps would change the host; nothing was changed.",
            changed,
        )
    if changed and left:
        return lang.n("Fixed, %(n)d left: see Left below.", "Fixed, %(n)d left: see Left below.", left)
    if changed:
        return lang._("Fixed: every problem found was fixed.")
    if left:
        return lang.n("Nothing was changed; %(n)d left.", "Nothing was changed; %(n)d left.", left)
    return lang._("Nothing to do: the host was as it should be.")


# -- what was found, done and left -------------------------------------------------------


def found_items(story: Story, settings: Settings, lang: Language, view: MissedJobsView | None) -> list[str]:
    items: list[str] = []
    if story.run.error:
        error = text.one_line(story.run.error)
        items.append(lang._("The host could not be checked: %(error)s.", error=error))
    daemon = story.daemon
    before = story.before
    if before is not None and before.offset is not None and abs(before.offset) > settings.ntp.max_offset:
        items.append(lang._("The clock was %(offset)s.", offset=lang.offset(before.offset, before.bound)))
    was_running = _first_known(
        story.restart[1].was_running if story.restart else None,
        story.boot[1].was_running if story.boot else None,
    )
    if was_running is False:
        items.append(lang._("%(daemon)s was not running.", daemon=daemon))
    elif before is not None and before.synchronised is False:
        items.append(lang._("%(daemon)s was running but not synchronised.", daemon=daemon))
    if story.boot is not None and story.boot[1].was_enabled is False:
        items.append(
            lang._(
                "%(daemon)s was not enabled at boot: the root cause, since nothing starts it "
                "again after the provider's restart.",
                daemon=daemon,
            )
        )
    if story.backup is not None:
        items.extend(_backup_found(story.backup, settings, lang))
    if view is not None and view.rows:
        where = lang._("in the maintenance window") if view.given else lang._("during the clock gap")
        items.append(
            lang.n(
                "%(n)d cron job was due %(where)s and did not run.",
                "%(n)d cron jobs were due %(where)s and did not run.",
                len(view.rows),
                where=where,
            )
        )
    if story.site is not None and story.site[0].failed:
        items.append(lang._("The site did not answer as it should."))
    if story.since is not None:
        items.extend(_since_found(story.since[1], lang))
    return items


def _since_found(data: SinceBefore, lang: Language) -> list[str]:
    """compare's failures and warnings as found, before ``--restore`` acted, counted."""
    listed = data.found if data.found is not None else data.findings
    problems = [f for f in listed or [] if isinstance(f, dict) and f.get("level") in {"failure", "warning"}]
    if not problems:
        return []
    if data.snapshot:
        return [
            lang.n(
                "%(n)d problem appeared since the snapshot taken before the maintenance: "
                "see “Since before the maintenance”.",
                "%(n)d problems appeared since the snapshot taken before the maintenance: "
                "see “Since before the maintenance”.",
                len(problems),
            )
        ]
    return [
        lang.n(
            "%(n)d problem with services or mounts: see “Since before the maintenance”.",
            "%(n)d problems with services or mounts: see “Since before the maintenance”.",
            len(problems),
        )
    ]


def _backup_found(item: tuple[StepResult, BackupRerun], settings: Settings, lang: Language) -> list[str]:
    result, data = item
    if result.outcome is Outcome.SKIPPED or (result.outcome is Outcome.OK and not data.rerun):
        return []
    if data.last_success is None:
        return [lang._("The backup had no recorded success.")]
    ago = lang.age(data.age) if data.age is not None else "?"
    when = lang.epoch(data.last_success, settings.records.zone)
    return [lang._("The backup was missed: its last success was %(ago)s ago, %(when)s.", ago=ago, when=when)]


def done_items(story: Story, lang: Language, view: MissedJobsView | None, dry: bool) -> list[str]:
    items: list[str] = []
    run = story.run
    daemon = story.daemon
    for result in run.results:
        data = stepdata.read(result)
        if not result.changed and not isinstance(data, SinceBefore):
            continue  # compare may have restored a service and still failed on the rest
        if dry:
            if result.changed:
                items.append(lang._("%(step)s: would change the host.", step=title_of(result, lang)))
        elif isinstance(data, DaemonRestart):
            items.append(lang._("Restarted %(daemon)s.", daemon=data.daemon or daemon))
        elif isinstance(data, ClockSync):
            items.append(_sync_done(data, daemon, lang))
        elif isinstance(data, DaemonBoot):
            if data.was_running is False:
                items.append(lang._("Started %(daemon)s.", daemon=data.daemon or daemon))
            if data.was_enabled is not True and data.enabled:
                items.append(lang._("Enabled %(daemon)s at boot.", daemon=data.daemon or daemon))
        elif isinstance(data, RtcWrite):
            items.append(lang._("Wrote the system time to the hardware clock."))
        elif isinstance(data, BackupRerun):
            took = lang.seconds(data.duration or 0.0)
            items.append(lang._("Reran the backup: exit 0 in %(took)s.", took=took))
        elif isinstance(data, MissedJobs) and view is not None:
            ran = [row for row in view.rows if row.state == "ran"]
            items.append(lang.n("Reran %(n)d missed cron job.", "Reran %(n)d missed cron jobs.", len(ran)))
        elif isinstance(data, SinceBefore):
            items.extend(
                lang._("Started %(name)s again: it ran before the maintenance.", name=item["service"])
                for item in data.restores or []
                if isinstance(item, dict) and item.get("action") == "started"
            )
        else:
            items.append(f"{title_of(result, lang)}: {text.one_line(result.message)}")
    if view is not None and not dry:
        by_backup = [row for row in view.rows if row.state == "by_backup"]
        if by_backup:
            items.append(
                lang.n(
                    "%(n)d missed cron job was the backup, rerun by the backup step.",
                    "%(n)d missed cron jobs were the backup, rerun by the backup step.",
                    len(by_backup),
                )
            )
    after = story.after
    if after is not None and after.offset is not None and items:
        now = lang.offset(after.offset, after.bound)
        if after.synchronised and after.peer:
            items.append(
                lang._(
                    "The clock is now %(offset)s; %(daemon)s is synchronised to %(peer)s.",
                    offset=now,
                    daemon=daemon,
                    peer=after.peer,
                )
            )
        else:
            items.append(lang._("The clock is now %(offset)s.", offset=now))
    return items


def _sync_done(data: ClockSync, daemon: str, lang: Language) -> str:
    tool = data.tool or daemon
    amount = None if data.stepped is None else ("+" if data.stepped >= 0 else "−") + lang.amount(data.stepped)
    if amount is None and data.server:
        said = lang._("Set the clock with %(tool)s (%(server)s).", tool=tool, server=data.server)
    elif amount is None:
        said = lang._("Set the clock with %(tool)s.", tool=tool)
    elif data.server:
        said = lang._(
            "Stepped the clock %(amount)s with %(tool)s (%(server)s).",
            amount=amount,
            tool=tool,
            server=data.server,
        )
    else:
        said = lang._("Stepped the clock %(amount)s with %(tool)s.", amount=amount, tool=tool)
    if data.fallback:
        said += " " + lang._(
            "%(daemon)s held the NTP socket, so it was stopped for the sync and started again.", daemon=daemon
        )
    return said


def left_items(story: Story, lang: Language, view: MissedJobsView | None, dry: bool) -> list[LeftItem]:
    run = story.run
    items: list[LeftItem] = []
    if run.interrupted:
        items.append(
            LeftItem(lang._("The run was interrupted; later steps did not run: run post-maint again."))
        )
    if run.error:
        items.append(
            LeftItem(
                lang._(
                    "Host error: %(error)s. Fix it, then run post-maint again.",
                    error=text.one_line(run.error).rstrip("."),
                )
            )
        )
    for number, result in enumerate(run.results, 1):
        if result.failed:
            items.append(
                LeftItem(
                    lang._(
                        "Step %(number)d, %(step)s, failed: %(message)s. See its details below, "
                        "fix the cause, then run post-maint again.",
                        number=number,
                        step=title_of(result, lang),
                        message=text.one_line(result.message).rstrip("."),
                    )
                )
            )
    if view is not None and view.left and not dry:
        jobs = lang.join([row.command for row in view.left])
        items.append(
            LeftItem(
                lang.n(
                    "%(n)d missed cron job was not rerun (%(jobs)s). If it should run now, rerun it:",
                    "%(n)d missed cron jobs were not rerun (%(jobs)s). If they should run now, rerun them:",
                    len(view.left),
                    jobs=jobs,
                ),
                rerun_command(run.host, view, view.left),
            )
        )
    if story.restart is not None:
        data = story.restart[1]
        if data.no_panic_override:
            items.append(
                LeftItem(
                    lang._(
                        "%(daemon)s runs without -g (%(where)s): after the next long pause it exits at its "
                        "1000 s panic threshold instead of correcting the clock. Add -g to its options.",
                        daemon=data.daemon or "ntpd",
                        where=data.no_panic_override,
                    )
                )
            )
        if data.makestep_warning:
            items.append(
                LeftItem(
                    lang._(
                        "chrony.conf has no makestep that applies after start-up: after the next long pause "
                        "chronyd only slews, for days. Add 'makestep 1 -1'."
                    )
                )
            )
    if story.boot is not None and not dry:
        result, boot = story.boot
        if boot.enabled is False and not result.failed:
            items.append(
                LeftItem(lang._("%(daemon)s is still not enabled at boot: enable it.", daemon=story.daemon))
            )
    return items


def _first_known(*values: bool | None) -> bool | None:
    return next((value for value in values if value is not None), None)


# -- before → after ----------------------------------------------------------------------


def before_after(story: Story, settings: Settings, lang: Language, dry: bool) -> list[tuple[str, str, str]]:
    """Rows of (what, found, now) for what the run looked at."""
    rows: list[tuple[str, str, str]] = []
    unchanged = lang._("unchanged (dry run)") if dry else "—"
    before, after = story.before, story.after
    if before is not None or after is not None:
        found = lang.offset(before.offset, before.bound) if before and before.offset is not None else "—"
        now = lang.offset(after.offset, after.bound) if after and after.offset is not None else unchanged
        rows.append((lang._("clock"), found, now))
    daemon = story.daemon
    running_before = _first_known(
        story.restart[1].was_running if story.restart else None,
        story.boot[1].was_running if story.boot else None,
    )
    if running_before is not None:
        running_now = _running_now(story, running_before, dry)
        rows.append(
            (
                lang._("%(daemon)s running", daemon=daemon),
                _yes_no(running_before, lang),
                _yes_no(running_now, lang) if running_now is not None else unchanged,
            )
        )
    if story.boot is not None and story.boot[1].was_enabled is not None:
        boot = story.boot[1]
        now_enabled = boot.enabled if not dry else None
        rows.append(
            (
                lang._("%(daemon)s enabled at boot", daemon=daemon),
                _yes_no(boot.was_enabled, lang),
                _yes_no(now_enabled, lang) if now_enabled is not None else unchanged,
            )
        )
    if before is not None and before.synchronised is not None:
        found = _peer(before.synchronised, before.peer, lang)
        now = (
            _peer(after.synchronised, after.peer, lang)
            if after and after.synchronised is not None
            else unchanged
        )
        rows.append((lang._("synchronised to"), found, now))
    if story.backup is not None and story.backup[0].outcome is not Outcome.SKIPPED:
        rows.append(_backup_row(story.backup, settings, lang, unchanged))
    if story.site is not None:
        answers = _site_words(story.site[1], lang)
        if answers:
            rows.append((lang._("site"), answers, answers))
    return rows


def _running_now(story: Story, before: bool, dry: bool) -> bool | None:
    if dry:
        return None
    if story.boot is not None and story.boot[1].running is not None:
        return story.boot[1].running
    if story.restart is not None and story.restart[1].start:
        return story.restart[1].start == "ok"
    return before


def _yes_no(value: bool | None, lang: Language) -> str:
    if value is None:
        return "—"
    return lang._("yes") if value else lang._("no")


def _peer(synchronised: bool | None, peer: str | None, lang: Language) -> str:
    if not synchronised:
        return lang._("not synchronised")
    return peer or lang._("yes")


def _backup_row(
    item: tuple[StepResult, BackupRerun], settings: Settings, lang: Language, unchanged: str
) -> tuple[str, str, str]:
    result, data = item
    if data.last_success is None:
        found = lang._("no recorded success")
    else:
        ago = lang.age(data.age) if data.age is not None else "?"
        found = lang._(
            "%(when)s, %(ago)s ago", when=lang.epoch(data.last_success, settings.records.zone), ago=ago
        )
    if data.rerun and data.exit_code == 0:
        now = lang._(
            "%(when)s, rerun", when=lang.epoch(result.started + result.duration, settings.records.zone)
        )
    elif data.rerun:
        now = lang._("rerun failed")
    else:
        now = found if not result.dry_run else unchanged
    return (lang._("last backup"), found, now)


def _site_words(data: SiteAnswers, lang: Language) -> str:
    words = []
    for check in data.checks or []:
        if not isinstance(check, dict):
            continue
        latency = check.get("latency")
        took = f"{latency * 1000:.0f} ms" if isinstance(latency, int | float) else "?"
        status = check.get("status")
        answer = str(status) if status is not None else lang._("no answer")
        words.append(
            lang._("%(url)s %(status)s in %(took)s", url=check.get("url", "?"), status=answer, took=took)
        )
    return "; ".join(words)


# -- header ------------------------------------------------------------------------------


def header(
    run: HostRun, settings: Settings, story: Story, view: MissedJobsView | None, lang: Language
) -> list[tuple[str, str]]:
    """The header table's rows, label then value."""
    rows = [(lang._("Host"), host_line(run))]
    if settings.window is not None:
        window = settings.window
        rows.append(
            (lang._("Maintenance window"), lang.span(window.start, window.end, settings.records.zone))
        )
    elif view is not None and not view.given:
        rows.append((lang._("Clock gap"), f"{view.window}; {view.how}"))
    rows.append((lang._("Run"), run_line(run.started, run.finished, settings, lang)))
    before = story.before
    if before is not None and before.server:
        reference = before.server
        if before.stratum is not None:
            reference += ", " + lang._("stratum %(stratum)s", stratum=before.stratum)
        if before.controller_offset is not None:
            reference += "; " + lang._(
                "controller clock %(offset)s", offset=lang.offset(before.controller_offset)
            )
        rows.append((lang._("Reference time"), reference))
    counts = run.counts()
    words = {
        "ok": lang._("ok"),
        "changed": lang._("changed"),
        "failed": lang._("failed"),
        "skipped": lang._("skipped"),
    }
    rows.append((lang._("Outcome"), " · ".join(f"{counts[o.value]} {words[o.value]}" for o in Outcome)))
    return rows


def host_line(run: HostRun) -> str:
    facts = run.facts
    name = str(facts.get("hostname") or run.host)
    line = f"{name} ({facts['address']})" if facts.get("address") else name
    if name != run.host:
        line += f" [{run.host}]"
    extras = [
        str(facts[key]) for key in ("os", "init", "daemon") if facts.get(key) not in (None, "", "unknown")
    ]
    extras = [_INIT_NAMES.get(item.lower(), item) for item in extras]
    return ", ".join([line, *extras])


def run_line(started: float, finished: float, settings: Settings, lang: Language) -> str:
    """When (operator's zone and UTC), by whom, with which runbook; ``finished`` 0 = did not finish."""
    start = datetime.fromtimestamp(started, UTC)
    end = datetime.fromtimestamp(finished, UTC) if finished else None
    when = lang.span(start, end, settings.records.zone, seconds=True)
    if settings.records.operator:
        when += " " + lang._("by %(operator)s", operator=settings.records.operator)
    parts = [when, f"runbook {runbook_version()}"]
    if end is None:
        parts.append(lang._("did not finish"))
    return ", ".join(parts)


# -- steps -------------------------------------------------------------------------------


def console(command: CommandRecord, lang: Language, *, timed: bool = True) -> str:
    """``$ command``, its output, and ``(exit N, 0.3 s)`` or ``(did not finish: why)``.

    ``timed=False``: no duration (a command the runbook's own script ran among others).
    """
    script = text.clip(command.command, 12, 8, what="lines of the command")
    first, *rest = script.split("\n")
    lines = [f"$ {first}", *(f"> {line}" for line in rest)]
    for stream in (command.stdout, command.stderr):
        if stream:
            lines.append(text.clip(stream.replace("\r\n", "\n").rstrip("\n").rstrip("\r")))
    took = lang.seconds(command.duration) if timed else ""
    note = text.one_line(command.note)
    if command.exit_code is None:
        lines.append(f"({', '.join(filter(None, [lang._('did not finish') + ': ' + (note or '?'), took]))})")
    else:
        lines.append(f"({', '.join(filter(None, [f'exit {command.exit_code}', took, note]))})")
    return "\n".join(lines)


def admin_consoles(command: CommandRecord, lang: Language, daemon: str = "") -> list[str]:
    """What one of the runbook's scripts read that an admin of ``daemon`` would have typed
    (``ntpq -pn`` …), as consoles."""
    found: dict[str, str] = {}
    marks = list(_SECTION.finditer(command.stdout))
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.start() if following is not None else len(command.stdout)
        found[mark.group(1)] = command.stdout[mark.end() : end].strip("\n")
    consoles = []
    known = any(daemon in families for _, families in ADMIN_SECTIONS.values())
    for name, (typed, families) in ADMIN_SECTIONS.items():
        if name in found and (daemon in families or not known):
            shown = CommandRecord(typed, _exit_code(found.get(f"{name}.rc")), stdout=found[name])
            consoles.append(console(shown, lang, timed=False))
    return consoles


def _exit_code(text: str | None) -> int | None:
    value = (text or "").strip()
    return int(value) if value.isdigit() else None


def is_plumbing(command: CommandRecord) -> bool:
    """The runbook's own scripts (probe, cron reader, wait loops): they print marked sections.

    Judged by the command alone: output a host prints can neither hide a command nor show one.
    """
    return PLUMBING in command.command


def step_note(result: StepResult, lang: Language, story: Story, view: MissedJobsView | None) -> str:
    """The steps table's note, from the step's data where its type is known."""
    data = stepdata.read(result)
    if result.failed or result.dry_run or data is None:
        return text.one_line(result.message)
    note: str | None = None
    if isinstance(data, ClockCheck) and data.offset is not None:
        note = lang.offset(data.offset, data.bound)
    elif isinstance(data, ClockVerify) and data.offset is not None:
        note = lang.offset(data.offset, data.bound)
        if data.synchronised and data.peer:
            note += "; " + lang._("synchronised to %(peer)s", peer=data.peer)
    elif isinstance(data, DaemonRestart):
        note = lang._("restarted") if result.changed else lang._("running: not restarted")
    elif isinstance(data, ClockSync):
        note = _sync_note(data, result, lang, story.daemon)
    elif isinstance(data, DaemonBoot):
        note = lang._("running and enabled at boot") if data.running and data.enabled else None
    elif isinstance(data, RtcWrite):
        if data.rtc is False:
            note = lang._("the host has no hardware clock")
        elif result.changed:
            note = lang._("hardware clock written")
        elif result.outcome is Outcome.OK:
            note = lang._("clock not changed: hardware clock left as it is")
    elif isinstance(data, BackupRerun):
        note = _backup_note(result, data, lang)
    elif isinstance(data, MissedJobs) and view is not None:
        note = lang._(
            "%(due)d due, %(rerun)d rerun, %(left)d not rerun",
            due=len(view.rows),
            rerun=len(view.rerun),
            left=len(view.left),
        )
        fresh = sum(row.state == "fresh" for row in view.rows)
        if fresh:
            note += ", " + lang._("%(n)d not needed", n=fresh)
    elif isinstance(data, MissedJobs):
        note = lang._("no window given or inferred")
    elif isinstance(data, SiteAnswers):
        note = _site_words(data, lang) or None
    return note if note is not None else text.one_line(result.message)


def _sync_note(data: ClockSync, result: StepResult, lang: Language, daemon: str) -> str:
    if not result.changed:
        return lang._("clock within tolerance")
    tool = data.tool or daemon
    if data.stepped is None:
        return lang._("set the clock with %(tool)s", tool=tool)
    amount = ("+" if data.stepped >= 0 else "−") + lang.amount(data.stepped)
    note = lang._("stepped %(amount)s with %(tool)s", amount=amount, tool=tool)
    return note + ("; " + lang._("daemon stopped around it") if data.fallback else "")


def _backup_note(result: StepResult, data: BackupRerun, lang: Language) -> str | None:
    if data.rerun and data.exit_code == 0:
        return lang._("rerun: exit 0 in %(took)s", took=lang.seconds(data.duration or 0.0))
    if result.outcome is Outcome.OK and not data.rerun:
        if data.age is not None:
            return lang._("fresh: last success %(ago)s ago", ago=lang.age(data.age))
        return lang._("fresh")
    return None


def _readable(value: Any) -> Any:
    """Floats as people read them in data lines: six decimals, six significant digits below 1
    (``0.00013993270325000868`` -> ``0.000139933``, ``10812.4021113`` -> ``10812.402111``)."""
    if isinstance(value, float):
        return round(value, 6) if abs(value) >= 1 else float(f"{value:.6g}")
    if isinstance(value, list):
        return [_readable(item) for item in value]
    if isinstance(value, dict):
        return {key: _readable(item) for key, item in value.items()}
    return value


def step_view(
    number: int, result: StepResult, lang: Language, story: Story, view: MissedJobsView | None, full: bool
) -> StepView:
    commands: list[str] = []
    for command in result.commands:
        if full or not is_plumbing(command):
            commands.append(console(command, lang))
        else:
            commands.extend(admin_consoles(command, lang, story.daemon))
    shown = [c for c in result.commands if full or not is_plumbing(c)]
    note = step_note(result, lang, story, view)
    warnings = [w for w in result.warnings if full or PANIC_THRESHOLD not in w]
    return StepView(
        number=number,
        name=result.step,
        title=title_of(result, lang),
        outcome=outcome_word(result, lang),
        failed=result.failed,
        took=lang.seconds(result.duration),
        note=note if len(note) <= NOTE_LIMIT else note[: NOTE_LIMIT - 1] + "…",
        message=result.message,
        warnings=warnings,
        data=[(str(key), text.compact(_readable(value))) for key, value in result.data.items()]
        if full
        else [],
        commands=commands,
        console="\n".join(commands),
        hidden=len(result.commands) - len(shown),
    )


def host_record(
    run: HostRun,
    settings: Settings,
    *,
    now: float,
    json_name: str | None = None,
    journal_name: str | None = None,
) -> HostRecord:
    """The record of ``run`` (secrets masked), ready for a template or the JSON record."""
    run = redactor_for(settings).run(run)
    lang = Language(settings.records.lang)
    dry = is_dry(run, settings)
    story = story_of(run)
    view = (
        missed_view(story.missed[1], lang, settings.records.zone, _fresh_backup(story))
        if story.missed
        else None
    )
    left = left_items(story, lang, view, dry)
    verdict = label(run, dry, len(left), lang)
    full = settings.records.details == "full"
    return HostRecord(
        host=run.host,
        outcome=run.outcome.value,
        label=verdict,
        title=lang._(
            "Maintenance record — %(host)s — %(verdict)s", host=text.one_line(run.host), verdict=verdict
        ),
        header=header(run, settings, story, view, lang),
        result=result_sentence(run, dry, len(left), lang),
        found=found_items(story, settings, lang, view),
        done=done_items(story, lang, view, dry),
        left=left,
        before_after=before_after(story, settings, lang, dry),
        steps=[step_view(n, r, lang, story, view, full) for n, r in enumerate(run.results, 1)],
        error=run.error,
        interrupted=run.interrupted,
        dry_run=dry,
        details=settings.records.details,
        lang=lang.code,
        clock={
            "before": _reading(story.before),
            "after": _reading(story.after),
        },
        missed=view,
        json_name=json_name,
        journal_name=journal_name,
        rendered=lang.moment(datetime.fromtimestamp(now, UTC), settings.records.zone, seconds=True),
        run=run,
    )


def _fresh_backup(story: Story) -> str | None:
    """The backup's command when this run's backup step found it fresh (not rerun, not failed)."""
    if story.backup is None:
        return None
    result, data = story.backup
    return data.command if result.outcome is Outcome.OK and not data.rerun else None


def _reading(data: ClockCheck | ClockVerify | None) -> dict[str, float] | None:
    if data is None or data.offset is None:
        return None
    reading = {"offset": data.offset}
    if data.bound is not None:
        reading["bound"] = data.bound
    return reading


def host_json(
    run: HostRun,
    settings: Settings,
    *,
    now: float | None = None,
    journal_name: str | None = None,
    record: HostRecord | None = None,
) -> dict[str, Any]:
    """The JSON record: ``run.to_dict()`` (complete output, secrets masked) plus the header and summary.

    ``record``: ``run``'s ``host_record`` if the caller already has it (the Markdown needs it too).
    """
    if record is None:
        record = host_record(
            run, settings, now=time.time() if now is None else now, journal_name=journal_name
        )
    masked = record.run if record.run is not None else redactor_for(settings).run(run)
    story = story_of(masked)
    before = story.before
    return {
        "format": FORMAT,
        "title": record.title,
        "label": record.label,
        "lang": record.lang,
        "dry_run": record.dry_run,
        "header": {
            "host": run.host,
            "hostname": run.facts.get("hostname"),
            "address": run.facts.get("address"),
            "os": run.facts.get("os"),
            "init": run.facts.get("init"),
            "daemon": run.facts.get("daemon"),
            "timezone": settings.records.timezone,
            "window": window_json(settings),
            "operator": settings.records.operator,
            "runbook_version": runbook_version(),
            "reference": {
                "server": before.server,
                "stratum": before.stratum,
                "controller_offset": before.controller_offset,
            }
            if before is not None
            else None,
            "clock": record.clock,
            "rows": dict(record.header),
        },
        "summary": {
            "result": record.result,
            "found": record.found,
            "done": record.done,
            "left": [{"text": item.text, "command": item.command or None} for item in record.left],
        },
        "journal": journal_name,
        "rendered": record.rendered,
        **masked.to_dict(),
    }


def window_json(settings: Settings) -> dict[str, str] | None:
    window = settings.window
    if window is None:
        return None
    return {"start": window.start.isoformat(), "end": window.end.isoformat(), "source": window.source}
