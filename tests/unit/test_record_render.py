"""Rendering host and fleet records: content, wording, and output that cannot break the Markdown."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st
from record_checks import fences, list_items, tables, validate_fleet, validate_host
from record_seed import EXAMPLE, example_markdown
from record_seed import seed_run as lab_run
from record_seed import seed_settings as lab_settings
from sample_run import T0, cmd, seed_run, seed_settings

from runbook.record import fleet_json, host_json, render_fleet, render_host
from runbook.record.fleet import fleet_record
from runbook.record.model import host_record
from runbook.record.text import _escape, fence, visible
from runbook.results import CommandRecord, FleetRun, HostRun, Outcome, StepResult
from runbook.settings import with_overrides

CLOSING = re.compile(r"^ {0,3}(`{3,})[ \t]*$")


def render(run: HostRun) -> str:
    return render_host(run, seed_settings(), now=T0 + 60)


def lab_markdown() -> str:
    run = lab_run()
    return render_host(run, lab_settings(), now=run.finished + 1)


def fenced_blocks(markdown: str) -> list[str]:
    """The bodies of backtick fences, closed by the CommonMark rule (a run at least as long)."""
    blocks: list[str] = []
    opening: int | None = None
    body: list[str] = []
    for line in markdown.split("\n"):
        if opening is None:
            found = re.match(r"^ {0,3}(`{3,})[^`]*$", line)
            if found:
                opening, body = len(found.group(1)), []
        elif (closing := CLOSING.match(line)) and len(closing.group(1)) >= opening:
            blocks.append("\n".join(body))
            opening = None
        else:
            body.append(line)
    assert opening is None, "a fence was left open"
    return blocks


def table_rows(markdown: str, first_cell: str) -> list[list[str]]:
    """Table rows starting with ``| first_cell |``, split on unescaped pipes."""
    rows = []
    for line in markdown.split("\n"):
        if line.startswith(f"| {first_cell} |"):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def with_output(stdout: str, message: str = "looked") -> HostRun:
    run = seed_run()
    run.results[0] = replace(
        run.results[0], message=message, commands=[cmd("cat log", 0, 0, 0.1, stdout)], kind="", data={}
    )
    return run


def test_seed_record_answers_at_a_glance() -> None:
    """The real lab run of the seed incident: what was wrong, what was done, what is left."""
    md = lab_markdown()
    assert md.startswith("# Maintenance record — lab1 — FIXED, 2 LEFT (4 changes)\n")
    assert len(md.splitlines()) < 130
    header = dict(row for row in tables(md)[0][1:])
    assert header["Host"] == "lab1 (10.205.0.11), CentOS release 6.10 (Final), SysV init, ntpd"
    assert re.fullmatch(
        r"2026-12-06 00:13–03:18 JST \(2026-12-05 15:13–18:18 UTC\); inferred from the 3 h clock lag",
        header["Clock gap"],
    )
    assert "Maintenance window" not in header
    assert re.match(
        r"2026-12-06 03:18:10–03:18:18 JST \(2026-12-05 18:18:10–18:18:18 UTC\) by ops@", header["Run"]
    )
    items = list_items(md)
    assert "The clock was 3 h 0 min 0 s behind (10,800.000 s, ±0.1 ms)." in items
    assert "ntpd was not running." in items
    assert any(item.startswith("ntpd was not enabled at boot: the root cause") for item in items)
    assert any(
        item.startswith("The backup was missed: its last success was 1 d 2 h 49 min ago") for item in items
    )
    assert "4 cron jobs were due during the clock gap and did not run." in items
    assert "1 missed cron job was the backup, rerun by the backup step." in items
    left = md.split("**Left**")[1].split("## ")[0]
    assert left.count("\n- ") == 2
    assert "`runbook post-maint --host lab1 --window '2026-12-05 15:13:18..2026-12-05 18:18:18 UTC'" in left
    assert "ntpd runs without -g (/etc/sysconfig/ntpd)" in left
    assert "panic threshold" not in md.split("**Left**")[0]  # said once, as what is left


def test_before_after_and_steps_tables() -> None:
    md = lab_markdown()
    before_after = {row[0]: row[1:] for row in tables(md)[1][1:]}
    assert before_after["clock"] == ["3 h 0 min 0 s behind (10,800.000 s, ±0.1 ms)", "in step (±0.1 ms)"]
    assert before_after["ntpd running"] == ["no", "yes"]
    assert before_after["ntpd enabled at boot"] == ["no", "yes"]
    assert before_after["last backup"][1].endswith(", rerun")
    steps = tables(md)[2]
    assert steps[0] == ["#", "step", "outcome", "took", "note"]
    assert [row[1] for row in steps[1:]] == [
        "check date",
        "restart time daemon",
        "one-shot sync",
        "start + enable daemon",
        "verify",
        "sync hardware clock",
        "rerun missed backup",
        "missed cron jobs",
        "check site",
    ]
    assert steps[3][4] == "stepped +10,800.000 s with ntpdate; daemon stopped around it"
    assert steps[8][4] == "4 due, 1 rerun, 3 not rerun"


def test_details_show_only_what_an_admin_would_type() -> None:
    md = lab_markdown()
    blocks = fences(md)
    commands = [line for _, body in blocks for line in body.splitlines() if line.startswith("$ ")]
    assert commands == [
        "$ LC_ALL=C /sbin/service ntpd restart",
        "$ LC_ALL=C /usr/sbin/ntpdate 10.205.0.2",
        "$ LC_ALL=C /sbin/service ntpd stop",
        "$ LC_ALL=C /usr/sbin/ntpdate 10.205.0.2",
        "$ LC_ALL=C /sbin/service ntpd start",
        "$ LC_ALL=C chkconfig ntpd on",
        "$ ntpq -pn",  # what verify's wait loop read last
        "$ LC_ALL=C /usr/sbin/hwclock --systohc",
        "$ sh -c /usr/local/bin/backup.sh 2>&1",
    ]
    assert all(info == "console" for info, _ in blocks)
    assert "@@runbook" not in md and "\\x0d" not in md and " 0a " not in md
    assert all(re.search(r"^\(exit \d+(, \d+\.\d s)?\)$", body.splitlines()[-1]) for _, body in blocks)
    assert "\n*10.205.0.2 " in md  # the system peer, as ntpq shows it


def test_details_full_restores_the_probe() -> None:
    run = lab_run()
    md = render_host(run, with_overrides(lab_settings(), {"details": "full"}), now=run.finished + 1)
    assert "@@runbook:" in md
    assert "Data: offset `10800" in md
    assert len(fences(md)) == 8  # every step but check site, which runs no command


def test_docs_example_is_current() -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == example_markdown(), (
        "docs/record-example.md is stale: run .venv/bin/python tests/unit/record_seed.py "
        "(or scripts/record-example for a fresh lab run)"
    )


def test_output_cannot_break_out_of_its_fence() -> None:
    hostile = "```\n# Injected heading\n````\n~~~\n```` ``` `````\nend"
    md = render(with_output(hostile))
    blocks = fenced_blocks(md)
    assert hostile in blocks[0]
    assert "\n# Injected heading" not in md.replace(blocks[0], "")
    assert "``````console" in md  # one longer than the longest run (5)


@given(st.text(alphabet=st.sampled_from(["`", "~", " ", "\n", "a", "|"]), max_size=60))
def test_fence_always_holds_its_text(body: str) -> None:
    blocks = fenced_blocks(fence(body, "console"))
    assert blocks == [body.removesuffix("\n")]


def test_template_syntax_in_output_is_literal() -> None:
    text = "{{ 7 * 7 }} {% for x in range(3) %}loop{% endfor %} {# c #} {{ settings.ssh.sudo_password }}"
    md = render(with_output(text, message="{{ record.title }}"))
    assert text in md
    assert "{{ record.title }}" in md
    assert "49" not in md and "looplooploop" not in md


def test_pipes_and_newlines_stay_inside_table_cells() -> None:
    md = render(with_output("", message="a | b\n| c | d |"))
    row = table_rows(md, "1")[0]
    assert len(row) == 5
    assert row[4] == r"a \| b ↵ \| c \| d \|"


def test_control_characters_are_made_visible() -> None:
    run = with_output("\x1b[31mred\x1b[0m\rprogress\x07 \u202eevil\n", message="bell\x07")
    md = render(run)
    assert "\\x1b[31mred\\x1b[0m\\x0dprogress\\x07 \\u202eevil" in md
    assert "bell\\x07" in md
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202e]", md)
    assert host_json(run, seed_settings())["results"][0]["commands"][0]["stdout"].startswith("\x1b[31m")


def test_html_in_messages_cannot_hide_the_rest() -> None:
    md = render(with_output("<!-- hidden", message="<!-- <script>x</script>"))
    assert "<!--" not in md.split("```")[0]
    assert "&lt;!-- &lt;script>x&lt;/script>" in md
    assert "<!-- hidden" in fenced_blocks(md)[0]  # literal inside a fence


def test_huge_output_is_clipped_in_markdown_and_whole_in_json() -> None:
    stdout = "".join(f"line {n}\n" for n in range(10_000)) + "x" * 5000
    run = with_output(stdout)
    md = render(run)
    assert "… 9941 lines omitted (the JSON record has them all) …" in md
    assert "line 0\n" in md and "line 9999\n" in md and "line 5000\n" not in md
    assert "… 4000 characters omitted …" in md
    assert len(md) < 30_000
    assert host_json(run, seed_settings())["results"][0]["commands"][0]["stdout"] == stdout


def test_dry_run_says_what_would_change() -> None:
    run = seed_run()
    run.results = [
        run.results[0],
        StepResult("restart_daemon", Outcome.CHANGED, "would restart ntpd (not running)", dry_run=True),
        StepResult("one_shot_sync", Outcome.CHANGED, "would step the clock +10,812.4 s", dry_run=True),
        StepResult("verify", Outcome.SKIPPED, "would verify after the changes", data={"offset": 10812.4}),
    ]
    md = render(run)
    assert md.startswith("# Maintenance record — web01.example.jp — DRY RUN (would change 2)\n")
    assert "> **DRY RUN:** nothing was changed on the host" in md
    assert "| 2 | restart daemon | would change | 0.0 s | would restart ntpd (not running) |" in md
    assert "| clock | 3 h 0 min 12 s behind (10,812.402 s, ±3.0 ms) | unchanged (dry run) |" in md
    assert "\nDry run: 2 steps would change the host; nothing was changed.\n" in md
    assert "The clock is now" not in md


def test_interrupted_run_says_so_first() -> None:
    run = seed_run()
    run.results = run.results[:3]
    run.interrupted, run.finished = True, 0.0
    md = render(run)
    assert md.startswith(
        "# Maintenance record — web01.example.jp — INTERRUPTED (after 3 steps; 2 changes made)\n"
    )
    assert "> **INTERRUPTED:** this run did not finish" in md
    assert "| Run | 2017-08-22 09:12:03 JST (00:12:03 UTC) by ops@monitor01, runbook " in md
    assert ", did not finish |" in md
    assert "- The run was interrupted; later steps did not run: run post-maint again." in md
    assert "### 3. one-shot sync — changed" in md


def test_host_error_keeps_what_was_done_before() -> None:
    run = seed_run()
    run.results = run.results[:2]
    run.error = "connection dropped: Socket is closed"
    md = render(run)
    assert md.startswith("# Maintenance record — web01.example.jp — FAILED (host error; 1 change made)\n")
    assert "- Host error: connection dropped: Socket is closed. Fix it, then run post-maint again." in md
    assert "> **HOST ERROR:** connection dropped: Socket is closed" in md
    assert "### 2. restart time daemon — changed" in md
    assert "### Host error\n```text\nconnection dropped: Socket is closed\n```" in md


def test_unreachable_host_with_no_steps() -> None:
    run = HostRun("db01", started=T0, finished=T0 + 5, error="unreachable: [Errno 113] No route to host")
    md = render(run)
    assert "— FAILED (host error)\n" in md
    assert "| Host | db01 |" in md
    assert "No step ran." in md
    assert "**Found**\n- Nothing wrong." not in md or "No route to host" in md
    assert "- Host error: unreachable: [Errno 113] No route to host. Fix it" in md


def test_failed_step_is_bold_and_followed_up() -> None:
    run = seed_run()
    run.results[4] = replace(run.results[4], outcome=Outcome.FAILED, message="ntpd is not running")
    md = render(run)
    assert "— FAILED (verify failed; 3 changes made)" in md
    assert "| 5 | verify | **failed** | 11.2 s | ntpd is not running |" in md
    assert "- Step 5, verify, failed: ntpd is not running. See its details below" in md
    assert "### 5. verify — failed\nntpd is not running\n" in md


def test_nothing_to_do() -> None:
    run = seed_run()
    run.results = [replace(r, outcome=Outcome.OK, warnings=[]) for r in run.results]
    md = render(run)
    assert "— OK (nothing to do)\n" in md
    assert "**Left**\n- Nothing.\n" in md
    assert "**Done**\n- Nothing was changed.\n" in md


def test_unknown_step_names_read_well() -> None:
    run = seed_run()
    run.results.append(StepResult("flush_dns_cache", Outcome.OK, "flushed"))
    assert "| 8 | flush dns cache | ok | 0.0 s | flushed |" in render(run)


def test_a_custom_clock_step_fills_the_clock_rows_by_its_data_type() -> None:
    """No lookup by name: a custom runbook's own clock steps declare ClockCheck / ClockVerify."""
    run = seed_run()
    before, after = run.results[0], run.results[4]
    run.results = [
        replace(before, step="measure_offset", title="measure offset"),
        replace(after, step="confirm_clock", title="confirm clock"),
    ]
    md = render(run)
    assert "| clock | 3 h 0 min 12 s behind (10,812.402 s, ±3.0 ms) | 4.0 ms behind (±3.0 ms) |" in md
    assert "| 1 | measure offset | ok | 0.2 s | 3 h 0 min 12 s behind (10,812.402 s, ±3.0 ms) |" in md
    untyped = [replace(r, kind="") for r in run.results]
    assert "| clock |" not in render(replace(run, results=untyped))


def test_host_json_has_the_run_and_the_header() -> None:
    run = seed_run()
    data = host_json(run, seed_settings(), now=T0 + 60, journal_name="run-x.jsonl")
    json.dumps(data)
    assert HostRun.from_dict(data).to_dict() == run.to_dict()
    assert data["title"].endswith("FIXED (3 changes)")
    assert data["header"]["clock"] == {
        "before": {"offset": 10812.402, "bound": 0.003},
        "after": {"offset": 0.004, "bound": 0.003},
    }
    assert data["header"]["window"]["start"] == "2017-08-22T02:00:00+09:00"
    assert data["header"]["reference"]["server"] == "ntp1.sakura.ad.jp"
    assert data["summary"]["result"].startswith("Fixed")
    validate_host(data)
    assert data["journal"] == "run-x.jsonl"


def test_fleet_record_links_each_host() -> None:
    good = seed_run()
    bad = HostRun("db|01", started=T0, finished=T0 + 5, error="Authentication failed.")
    fleet = FleetRun([good, bad], started=T0, finished=T0 + 60)
    names = {"web01.example.jp": "web01.example.jp-20170822T001203Z.md", "db|01": "db_01-20170822T001203Z.md"}
    md = render_fleet(fleet, seed_settings(), names, now=T0 + 60)
    assert md.startswith("# Maintenance record — 2 hosts — FAILED (1 of 2 hosts)\n")
    assert tables(md)[1][0] == ["host", "verdict", "changes", "left", "record"]
    web = table_rows(md, "web01.example.jp")[0]
    assert web[1] == "FIXED (3 changes)"
    assert web[2] == "restart time daemon, one-shot sync, rerun missed backup"
    assert web[3] == "—"
    assert web[4] == "[web01.example.jp-20170822T001203Z.md](web01.example.jp-20170822T001203Z.md)"
    db = table_rows(md, r"db\|01")[0]
    assert db[1:4] == [
        "FAILED (host error)",
        "—",
        "Host error: Authentication failed. Fix it, then run post-maint again.",
    ]
    data = fleet_json(fleet, seed_settings(), names, now=T0 + 60)
    validate_fleet(data)
    assert [h["record"] for h in data["hosts"]] == list(names.values())
    assert data["hosts"][1]["left"] == [
        "Host error: Authentication failed. Fix it, then run post-maint again."
    ]


MARKDOWNISH = st.text(
    alphabet=st.sampled_from(list("`~#>-*=_|<!\n 1.)a\x1b\u202e")) | st.characters(), max_size=80
)


@given(st.text(max_size=300) | MARKDOWNISH, MARKDOWNISH)
def test_any_output_stays_in_its_fence_and_visible(stdout: str, message: str) -> None:
    md = render(with_output(stdout, message=message))
    blocks = fenced_blocks(md)
    assert len(blocks) == 6
    assert blocks[0].startswith("$ cat log")
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]", md)
    assert len(table_rows(md, "1")[0]) == 5


def test_messages_cannot_open_blocks() -> None:
    for message in ["```python", "# Injected", "> quote", "- item", "1. first", "---", "~~~"]:
        run = with_output("ok", message=message)
        run.results[1] = replace(run.results[1], warnings=[message], outcome=Outcome.FAILED, message=message)
        md = render(run)
        assert len(fenced_blocks(md)) == 6, message
        assert f"\n{message}" not in md and f"\n- {message}" not in md, message
        assert "\n**Left**\n" in md


def test_a_long_host_error_stays_out_of_the_title() -> None:
    error = "host key for web1 (203.0.113.10:22) has CHANGED (got ssh-ed25519 " + "A" * 60
    md = render(HostRun(host="web1", started=T0, finished=T0 + 1, error=error))
    assert md.startswith("# Maintenance record — web1 — FAILED (host error)\n")
    assert f"> **HOST ERROR:** {error}" in md


def test_a_step_ending_after_its_hosts_record_was_made_leaves_the_fleet_record_whole() -> None:
    """After a Ctrl-C the records are written while a host may still end its current step: the
    fleet's line says what the host's own record says, and nothing raises."""
    run = seed_run()
    made = host_record(run, seed_settings(), now=T0 + 60)
    run.results.append(replace(run.results[-1], step="late", outcome=Outcome.CHANGED))
    fleet = FleetRun([run], started=T0, finished=T0 + 60)
    record = fleet_record(fleet, seed_settings(), {}, now=T0 + 60, host_records={run.host: made})
    [line] = record.hosts
    assert line.changes == ["restart time daemon", "one-shot sync", "rerun missed backup"]
    assert made.run is not None and line.commands == len(made.run.commands)
    data = fleet_json(fleet, seed_settings(), {}, now=T0 + 60, record=record)
    assert data["totals"]["commands"] == line.commands


def test_fleet_record_counts_round_trips_and_says_why_it_stopped() -> None:
    good = seed_run()
    good.connections = 1
    skipped = HostRun(
        "db02", started=T0, finished=T0, error="not run: --fail-fast stopped the fleet after db01 failed"
    )
    fleet = FleetRun(
        [good, skipped],
        started=T0,
        finished=T0 + 60,
        stopped="--fail-fast stopped the fleet after db01 failed",
    )
    data = fleet_json(fleet, seed_settings(), {}, now=T0 + 60)
    commands = len(good.commands)
    assert data["hosts"][0]["commands"] == commands and data["hosts"][0]["connections"] == 1
    assert data["hosts"][0]["round_trips"] == sum(c.round_trips for c in good.commands) >= commands
    assert data["totals"] == {
        "hosts": 2,
        "connections": 1,
        "commands": commands,
        "round_trips": good.round_trips,
    }
    assert data["stopped"] == fleet.stopped
    md = render_fleet(fleet, seed_settings(), {}, now=T0 + 60)
    assert "| Stopped | no new host started: --fail-fast stopped the fleet after db01 failed |" in md


def _visible_char_by_char(text: str) -> str:
    """``visible`` as it escapes non-ASCII text, one character at a time."""
    text = text.replace("\r\n", "\n")
    keep = {"\n", "\t"}
    return "".join(
        ch if ch in keep or unicodedata.category(ch) not in {"Cc", "Cf", "Zl", "Zp"} else _escape(ch)
        for ch in text
    )


@given(
    st.text() | MARKDOWNISH | st.text(alphabet=st.sampled_from(list("é±→↵\n\t\r \u00a0\u2028\u200b\ufeff")))
)
def test_visible_escapes_as_character_by_character(text: str) -> None:
    assert visible(text) == _visible_char_by_char(text)


def test_a_long_script_shows_its_ends_in_markdown_and_all_of_it_in_json() -> None:
    script = "\n".join(f"rb_line_{n}=1" for n in range(300))
    run = seed_run()
    first = run.results[0]
    long = replace(first, commands=[cmd(script, 0, 0.0, 0.1, "out\n")])
    run = replace(run, results=[long, *run.results[1:]])
    markdown = render_host(run, seed_settings())
    assert "$ rb_line_0=1" in markdown and "> rb_line_299=1" in markdown
    assert "rb_line_150=1" not in markdown
    assert "… 280 lines of the command omitted (the JSON record has them all) …" in markdown
    data = host_json(run, seed_settings())
    assert data["results"][0]["commands"][0]["command"] == script


def test_output_that_looks_like_a_probe_section_cannot_hide_its_command() -> None:
    md = render(with_output("@@runbook:cron@@\nnot ours\n"))
    assert "$ cat log\n@@runbook:cron@@\nnot ours\n" in fences(md)[0][1]


def test_an_unreachable_host_is_not_found_healthy() -> None:
    run = HostRun(host="web9", started=T0, finished=T0 + 5, error="ssh: connection refused (port 22)")
    markdown = render(run)
    assert "Nothing wrong." not in markdown
    assert "The host could not be checked: ssh: connection refused (port 22)." in list_items(markdown)
    japanese = render_host(run, with_overrides(seed_settings(), {"lang": "ja"}), now=T0 + 60)
    assert "ホストを確認できませんでした: ssh: connection refused (port 22)。" in japanese


def _probed(daemon: str) -> str:
    """A run whose probe read chronyc and timedatectl (no D-Bus on the host) and found ``daemon``."""
    probe = CommandRecord(
        'LC_ALL=C; export LC_ALL; rb_sec() { printf \'@@runbook:%s@@%s\\n\' "$1" "$rb_tok"; }; …',
        0,
        stdout="@@runbook:sync.chronyc@@ab12\nReference ID    : 0A000002 (10.0.0.2)\n"
        "@@runbook:sync.chronyc.rc@@ab12\n0\n"
        "@@runbook:sync.timedatectl@@ab12\nFailed to connect to bus: No such file or directory\n"
        "@@runbook:sync.timedatectl.rc@@ab12\n1\n",
    )
    boot = {"daemon": daemon, "was_running": True, "was_enabled": True, "running": True, "enabled": True}
    run = HostRun(
        "web01",
        [StepResult("start_enable_daemon", Outcome.OK, "ok", [probe], T0, 0.1, boot, [], kind="daemon_boot")],
        T0,
        T0 + 1,
    )
    return render_host(run, seed_settings(), now=T0 + 2)


def test_details_show_the_reads_of_the_hosts_own_time_daemon() -> None:
    """A real Debian 12 VM with chrony and no D-Bus: every probe showed `timedatectl show` failing."""
    chrony = _probed("chronyd")
    assert "$ chronyc -n tracking" in chrony and "timedatectl" not in chrony
    timesyncd = _probed("systemd-timesyncd")
    assert "$ timedatectl show" in timesyncd and "chronyc" not in timesyncd
    unknown = _probed("openntpd")
    assert "$ chronyc -n tracking" in unknown and "$ timedatectl show" in unknown
