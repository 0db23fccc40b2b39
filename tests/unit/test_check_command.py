"""``runbook check``'s command line: short flags, and bad input as UNKNOWN on stdout before any host."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.cli import program


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ended:
        program.run(["runbook", *argv])
    out, err = capsys.readouterr()
    return int(ended.value.code or 0), out, err


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["-H", "h", "-w", "1:0"], "--warning '1:0' starts after it ends: write START:END with START <= END"),
        (["-H", "h", "--critical", "x"], "--critical 'x': 'x' is not a number; the syntax is [@]START:END"),
        (["-H", "h", "--daemon", "off"], "--daemon takes critical, warning or ignore, not 'off'"),
        (["-H", "h", "-t", "0"], "--timeout must be more than zero, not '0'"),
        (["-H", "h", "--jump", "soon"], "--jump: "),
        (["--hosts-file", "/nonexistent/hosts"], "hosts file /nonexistent/hosts does not exist"),
        (["-H", "h", "--bogus"], "unknown option --bogus"),
        (["-H", "h", "-w"], "option --warning needs a value (--warning VALUE); see --help"),
    ],
)
def test_bad_input_is_unknown_on_stdout(
    argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["check", *argv], capsys)
    assert code == 3 and err == ""
    assert out.startswith(f"CLOCK UNKNOWN - {line}") and out.count("\n") == 1, out


def test_an_unreadable_state_file_is_unknown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("Host nowhere\n  HostName 127.0.0.1\n  Port 9\n")
    state = tmp_path / "state.json"
    state.write_text("[]")
    argv = ["check", "-H", "nowhere", "--ssh-config", str(config), "--state-file", str(state), "-t", "1"]
    argv += ["--ntp-server", "127.0.0.1"]
    code, out, _ = run(argv, capsys)
    assert (code, out) == (
        3,
        f"CLOCK UNKNOWN - state file {state} has no hosts map: move it away to start afresh\n",
    )


def test_short_flags_follow_the_guidelines() -> None:
    assert program.namespace is not None
    task = program.namespace.tasks["check"]
    names = {arg.name: set(arg.names) for arg in task.get_arguments()}
    assert {"host", "H"} <= names["host"] and {"warning", "w"} <= names["warning"]
    assert {"critical", "c"} <= names["critical"] and {"timeout", "t"} <= names["timeout"]
    assert names["json"] == {"json"}  # no other short flags


def test_invoke_has_the_same_check_task() -> None:
    import tasks

    assert tasks.ns.tasks["check"] is program.namespace.tasks["check"]  # type: ignore[union-attr]


def test_a_hosts_for_entry_applies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("Host nowhere\n  HostName 127.0.0.1\n  Port 10\n")
    (tmp_path / "runbook.yaml").write_text(
        f"runbook:\n  ssh_config: {config}\n  ntp_servers: [127.0.0.1]\n  for:\n    nowhere:\n      port: 9\n"
    )
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["check", "-H", "nowhere", "-t", "1"], capsys)
    assert code == 3 and out.startswith("CLOCK UNKNOWN - nowhere (127.0.0.1:9) is unreachable"), out
