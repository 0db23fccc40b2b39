"""Unit tests of the disk_space step on a fake host (runbook.testing): no SSH, no real host."""

from disk_space import disk_space
from invoke.runners import Result

from runbook import Outcome
from runbook.testing import commands, fake_host

DF = """\
Filesystem     1024-blocks     Used Available Capacity Mounted on
/dev/vda1         20509264 19073928    374904      99% /
"""


def test_a_full_disk_fails_and_says_how_full() -> None:
    host = fake_host(run={"LC_ALL=C df -P /": Result(DF)})
    result = disk_space(host)
    assert result.outcome is Outcome.FAILED
    assert result.message == "/ is 99 % full (limit 90 %)"
    assert result.data == {"used": 99}
    assert commands(host) == ["LC_ALL=C df -P /"]


def test_a_path_is_quoted_and_a_higher_limit_passes() -> None:
    host = fake_host(run={"LC_ALL=C df -P '/var/lib/my data'": Result(DF)})
    result = disk_space(host, path="/var/lib/my data", limit=99)
    assert result.outcome is Outcome.OK


def test_df_failing_is_a_failure_with_its_message() -> None:
    host = fake_host(run={"LC_ALL=C df -P /": Result("", stderr="df: /: No such file\n", exited=1)})
    result = disk_space(host)
    assert result.failed and result.message == "df failed (exit 1): df: /: No such file"
