"""Where settings come from: Invoke's files, ./runbook.yaml, -f FILE, flags, and 'for:' entries per host."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from runbook.configuration import gather
from runbook.engine import default_steps
from runbook.errors import SettingsError
from runbook.selection import select


def runbook(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from runbook.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )


def shown(out: str) -> dict[str, tuple[str, str]]:
    rows = {}
    for line in out.splitlines():
        name, rest = line.split(None, 1)
        value, _, source = rest.rpartition("  (")
        rows[name] = (value.strip(), source.rstrip(")"))
    return rows


def write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def test_local_file_then_f_file_then_flags(tmp_path: Path) -> None:
    local = write(
        tmp_path / "runbook.yaml", {"runbook": {"max_offset": "2s", "timezone": "Asia/Tokyo", "parallel": 3}}
    )
    other = write(tmp_path / "other.yaml", {"runbook": {"parallel": 7, "samples": 9}})
    plain = shown(runbook(tmp_path, "config").stdout)
    assert plain["max_offset"] == ("2.0", str(local))
    assert plain["timezone"] == ("Asia/Tokyo", str(local))
    assert plain["samples"] == ("7", "built-in default")
    both = shown(runbook(tmp_path, "-f", str(other), "config", "--ssh-config", "/etc/ssh/ssh_config").stdout)
    assert both["parallel"] == ("7", str(other))
    assert both["max_offset"] == ("2.0", str(local))
    assert both["ssh_config"] == ("/etc/ssh/ssh_config", "flag")


def test_a_file_without_a_runbook_section_is_read_whole_and_a_home_file_is_ignored(tmp_path: Path) -> None:
    write(tmp_path / "runbook.yaml", {"urls": ["https://www.example.jp/"]})
    assert shown(runbook(tmp_path, "config").stdout)["urls"][0] == "https://www.example.jp/"


def test_for_entries_apply_by_pattern_then_name(tmp_path: Path) -> None:
    write(
        tmp_path / "runbook.yaml",
        {
            "runbook": {
                "backup": {"command": "/usr/local/bin/backup.sh", "evidence_file": "/var/lib/backup/last"},
                "for": {
                    "db1": {"max_offset": "3s"},
                    "db*": {"backup": {"command": "/usr/local/bin/dbdump"}, "max_offset": "1s"},
                },
            }
        },
    )
    db1 = shown(runbook(tmp_path, "config", "--host", "db1").stdout)
    assert db1["max_offset"][0] == "3.0"  # its own name wins over the pattern, whatever the file order
    assert db1["backup"][0].startswith("command=/usr/local/bin/dbdump, evidence_file=/var/lib/backup/last")
    assert db1["backup"][1].endswith("(for db*")
    web1 = shown(runbook(tmp_path, "config", "--host", "web1").stdout)
    assert web1["backup"][0].startswith("command=/usr/local/bin/backup.sh")


def test_group_sections_mix_with_flat_keys_across_files_and_for_entries(tmp_path: Path) -> None:
    local = write(
        tmp_path / "runbook.yaml", {"runbook": {"ntp": {"max_offset": "2s", "timeout": 3}, "samples": 5}}
    )
    other = write(
        tmp_path / "other.yaml",
        {
            "runbook": {
                "max_offset": "4s",
                "for": {"web1": {"site": {"urls": ["https://w/"]}, "ntp": {"samples": 9}}},
            }
        },
    )
    rows = shown(runbook(tmp_path, "-f", str(other), "config", "--host", "web1").stdout)
    assert rows["max_offset"] == ("4.0", str(other))
    assert rows["ntp_timeout"] == ("3.0", str(local))
    assert rows["samples"] == ("9", f"{other} (for web1")
    assert rows["urls"] == ("https://w/", f"{other} (for web1")
    refused = runbook(
        tmp_path,
        "-f",
        str(write(other, {"runbook": {"for": {"web1": {"fleet": {"parallel": 2}}}}})),
        "config",
    )
    assert refused.returncode == 2
    assert "for web1: parallel is a setting of the whole run" in refused.stderr


def test_groups_come_from_the_ssh_config(tmp_path: Path) -> None:
    (tmp_path / "ssh_config").write_text("# runbook-group db: db1 db2\nHost db1 db2 web1\n  User root\n")
    write(
        tmp_path / "runbook.yaml",
        {"runbook": {"ssh_config": str(tmp_path / "ssh_config"), "for": {"@db": {"urls": ["https://db/"]}}}},
    )
    assert shown(runbook(tmp_path, "config", "--host", "db2").stdout)["urls"][0] == "https://db/"
    assert shown(runbook(tmp_path, "config", "--host", "web1").stdout)["urls"][0] == "-"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"for": {"web1": {"parallel": 3}}}, "for web1: parallel is a setting of the whole run"),
        ({"for": {"web1": {"backpu": "x"}}}, "for web1: unknown runbook setting(s): backpu; known: "),
        ({"max_offset": "soon"}, "max_offset"),
        ({"for": ["web1"]}, "'for' must map host names"),
    ],
)
def test_bad_files_are_usage_errors_naming_the_problem(
    tmp_path: Path, section: dict[str, object], message: str
) -> None:
    write(tmp_path / "runbook.yaml", {"runbook": section})
    done = runbook(tmp_path, "config")
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1


def test_an_unreadable_local_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "runbook.yaml").write_text("runbook: [unclosed\n")
    done = runbook(tmp_path, "config")
    assert done.returncode == 2 and "runbook.yaml cannot be read" in done.stderr


def test_missing_files_stop_post_maint_before_any_host(tmp_path: Path) -> None:
    for flags, named in (
        (("--ssh-config", "/nonexistent/ssh_config"), "--ssh-config /nonexistent/ssh_config: no such file"),
        (("--identity", "/nonexistent/id"), "--identity /nonexistent/id: no such file"),
        (("--hosts-file", "/nonexistent/hosts"), "hosts file /nonexistent/hosts does not exist"),
    ):
        done = runbook(tmp_path, "post-maint", "--host", "web1", "--record-dir", str(tmp_path / "r"), *flags)
        assert done.returncode == 2 and named in done.stderr, done.stderr
        assert not (tmp_path / "r").exists()


def test_gather_keeps_flags_above_for_entries(tmp_path: Path) -> None:
    from invoke.config import Config

    config = Config(
        runtime_path=write(tmp_path / "f.yaml", {"runbook": {"for": {"web1": {"max_offset": 3}}}})
    )
    config.load_runtime()
    sources = gather(config, {"max_offset": "1s"}, cwd=tmp_path)
    assert sources.for_host("web1", lambda _: set()).ntp.max_offset == 1.0
    assert gather(config, {}, cwd=tmp_path).for_host("web1", lambda _: set()).ntp.max_offset == 3.0


def test_only_keeps_what_a_step_needs_and_skip_refuses_to_break_it() -> None:
    chosen = select(default_steps(), only=["verify"])
    assert [getattr(s, "name", None) for s in chosen.steps] == ["check_date", "verify"]
    assert chosen.kept_for == {"check_date": "verify"}
    assert chosen.left_out["check_site"] == "skipped by choice (not in --only)"
    skipped = select(default_steps(), skip=["check_site", "sync_rtc"])
    assert set(skipped.left_out) == {"check_site", "sync_rtc"}
    with pytest.raises(
        SettingsError, match=r"--skip check_date: restart_daemon, .*, missed_jobs need it; skip them"
    ):
        select(default_steps(), skip=["check_date"])
    with pytest.raises(
        SettingsError, match="--skip check_date: verify needs it; skip it too, or keep check_date"
    ):
        select(default_steps(), only=["verify"], skip=["check_date"])
    with pytest.raises(SettingsError, match=r"--only verfy: no such step \(did you mean verify\?\)"):
        select(default_steps(), only=["verfy"])


def test_config_never_prints_a_password(tmp_path: Path) -> None:
    notify = {
        "mail_to": "ops@example.jp",
        "smtp_user": "ops",
        "smtp_password": "s3cret-smtp",
        "starttls": True,
        "webhook": "https://hooks.example.jp/T0/B0/s3cret-path",
    }
    write(tmp_path / "runbook.yaml", {"runbook": {"sudo_password": "s3cret-sudo", "notify": notify}})
    done = runbook(tmp_path, "config")
    assert done.returncode == 0, done.stderr
    assert "s3cret" not in done.stdout
    rows = shown(done.stdout)
    assert rows["sudo_password"][0] == "(hidden)"
    assert (
        "smtp_password=(set, hidden)" in rows["notify"][0] and "mail_to=ops@example.jp" in rows["notify"][0]
    )
