"""The ntpd options fact: which file leaves out -g (recorded cases); its fragment run by a real shell."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from recorded_cases import case_files, check_case

from runbook.facts import ntpd_options
from runbook.probe import probe_script, split_sections

PARSERS = {"ntpd_options": lambda text, rc: ntpd_options.without_panic_gate(text)}


@pytest.mark.parametrize("path", case_files(PARSERS), ids=lambda p: p.stem)
def test_recorded_cases(path: Path) -> None:
    check_case(PARSERS, path)


def test_nothing_found_says_nothing() -> None:
    assert ntpd_options.without_panic_gate(None) is None
    assert ntpd_options.without_panic_gate("") is None


FRAGMENT = (Path(ntpd_options.__file__).parent / "ntpd_options.sh").read_text()


def test_the_probe_carries_the_fragment() -> None:
    assert "rb_sec ntpd.options" in probe_script()


def test_fragment_reads_an_options_file_under_sh(tmp_path: Path) -> None:
    options = tmp_path / "ntpd"
    options.write_text('# comment\nOPTIONS="-u ntp:ntp -p /var/run/ntpd.pid"\n')
    fragment = FRAGMENT.replace("/etc/sysconfig/ntpd", str(options))
    script = 'rb_sec() { printf "@@runbook:%s@@\\n" "$1"; }\n' + fragment
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout
    section = split_sections(out)["ntpd.options"]
    assert ntpd_options.without_panic_gate(section) == str(options)


@pytest.mark.parametrize("shell", ["dash", "bash", "busybox"])
def test_fragment_reads_the_option_lines_as_grep_did_in_each_shell(shell: str, tmp_path: Path) -> None:
    options, unit = tmp_path / "ntpd", tmp_path / "ntpd.service"
    options.write_text(
        '# OPTIONS="-g"\nOPTIONSX="-x"\n \t OPTIONS="-u ntp:ntp -p /var/run/ntpd.pid"\nNTPD_OPTS=-g'
    )
    unit.write_text("[Service]\nExecStartPre=/bin/true\nExecStart=/usr/sbin/ntpd -n -u ntp:ntp -g\n")
    fragment = FRAGMENT.replace("/etc/sysconfig/ntpd", str(options)).replace(
        '"$rb_d/ntpd.service"', f'"{unit}"'
    )
    script = 'rb_sec() { printf "@@runbook:%s@@\\n" "$1"; }\n' + fragment
    argv = [shell, "sh", "-c"] if shell == "busybox" else [shell, "-c"]
    out = subprocess.run([*argv, script], capture_output=True, text=True, check=True).stdout
    section = split_sections(out)["ntpd.options"]
    lines = [f"file {options}", ' \t OPTIONS="-u ntp:ntp -p /var/run/ntpd.pid"', "NTPD_OPTS=-g"]
    assert section.splitlines()[:3] == lines
    assert section.splitlines()[3:] == [f"file {unit}", "ExecStart=/usr/sbin/ntpd -n -u ntp:ntp -g"] * 3
