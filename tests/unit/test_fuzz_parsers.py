"""No exception escapes a parser of host output, whatever the host prints (hypothesis).

Cron parsers are fuzzed in test_cron_fuzz.py; record text helpers against fences and template
syntax in test_record_render.py. Here: the probe's sections, facts, clock readings, service output.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from runbook import facts, timeservice
from runbook.clock import parse_time_reading
from runbook.daemons import ntp
from runbook.probe import new_token, split_sections
from runbook.settings import BackupSettings
from runbook.shell import section_rc

HEADERS = ["@@runbook:date@@", "@@runbook:backup.file@@", "@@runbook:backup.check.rc@@", "@@runbook:tools@@"]
LINES = st.one_of(
    st.text(max_size=40), st.sampled_from([*HEADERS, "ntpd is stopped", "1503364325", "\r", "\x0c"])
)
OUTPUT = st.one_of(st.text(), st.lists(LINES, max_size=20).map("\n".join))
BACKUP = BackupSettings(command="b", evidence_file="/e", check_command="c")


@settings(max_examples=300)
@given(OUTPUT, st.sampled_from(["", new_token()]))
def test_probe_output_to_facts_never_raises(text: str, token: str) -> None:
    sections = split_sections(text, token)
    assert all(isinstance(body, str) for body in sections.values())
    found = facts.parse_facts(sections, BACKUP, None)
    found.header()
    found.to_dict()


@given(OUTPUT, st.one_of(st.none(), st.integers(-1, 255)))
def test_line_parsers_never_raise(text: str, rc: int | None) -> None:
    section_rc(text)
    facts.parse_os(text)
    ntp.parse_ntpq(text)
    ntp.parse_ntpstat(text, rc)
    facts.parse_tools(text)
    facts.parse_timestamp(text)
    parse_time_reading(text)
    timeservice.parse_service_actions(text)
    timeservice.parse_chkconfig(text, rc)
    timeservice.parse_is_enabled(text)
    timeservice.parse_rc_update(text)
