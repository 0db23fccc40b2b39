"""A step of your own: fail when a filesystem is nearly full (docs/custom-runbook.md)."""

import shlex

from invoke.context import Context

from runbook import Outcome, StepRecorder, StepResult, step


@step("disk_space", title="disk space")
def disk_space(
    c: Context, rec: StepRecorder, path: str = "/", limit: int = 90, dry_run: bool = False
) -> StepResult:
    """Fail when the filesystem holding ``path`` is more than ``limit`` % full (read-only)."""
    done = rec.run(c, f"df -P {shlex.quote(path)}")
    if not done.ok:
        return rec.finish(Outcome.FAILED, f"df failed (exit {done.exit_code}): {done.stderr.strip()}")
    used = int(done.stdout.splitlines()[-1].split()[4].rstrip("%"))
    outcome = Outcome.FAILED if used > limit else Outcome.OK
    return rec.finish(outcome, f"{path} is {used} % full (limit {limit} %)", used=used)
