"""Check benchmark: ``runbook check`` against ``post-maint`` on the same healthy lab host.

Run as root, on your own lab instance::

    RUNBOOK_LAB_INSTANCE=2 .venv/bin/python benchmarks/check.py --repeat 15

It brings up one centos6 lab host in a temporary directory, fixes it with ``post-maint`` (the
seed's scenario), and then, alternating so that load on the machine hits both alike, times:

- as processes, what an engine or an operator starts: ``runbook check -H lab1`` and
  ``invoke post-maint --host lab1`` (interpreter start-up and imports included);
- in one process: ``check_host`` and the engine's ``run_host`` with the default runbook (the
  work itself: one connection, the probe, and for post-maint its steps and records).

It prints the median and minimum of each, and whether the check took no longer than post-maint.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from invoke.config import Config

from lab import Lab
from runbook.check import CheckOptions, Thresholds, check_host, parse_range
from runbook.configuration import gather
from runbook.engine import run_host
from runbook.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
RUNBOOK = Path(sys.executable).with_name("runbook")


def seconds(action: Callable[[], object]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({done.returncode}): {done.stdout}{done.stderr}")


def lab_settings(lab: Lab, records: Path) -> Settings:
    """The settings ``invoke -f LAB/runbook.yaml`` gives the CLI."""
    config = Config(runtime_path=lab.layout.runbook_yaml)
    config.load_runtime()
    return gather(config, {"record_dir": str(records)}).settings()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=15, help="runs of each (default 15)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="runbook-check-bench-") as scratch:
        base = Path(scratch)
        lab = Lab(base / ".lab")
        try:
            lab.up(profile="centos6", hosts=1)
            yaml, records = str(lab.layout.runbook_yaml), base / "records"
            post_maint = [sys.executable, "-m", "invoke", "-r", str(ROOT), "-f", yaml, "post-maint"]
            post_maint += ["--host", "lab1", "--record-dir", str(records)]
            check = [str(RUNBOOK), "-f", yaml, "check", "-H", "lab1"]
            run(post_maint)  # fixes the seed's host: from now on it is healthy
            run(check)  # exit 0: healthy
            settings = lab_settings(lab, records)
            options = CheckOptions(Thresholds(parse_range("0.5"), parse_range("1")))
            times: dict[str, list[float]] = {
                name: [] for name in ("check", "post-maint", "check_host", "run_host")
            }
            for _ in range(args.repeat):
                times["check"].append(seconds(lambda: run(check)))
                times["post-maint"].append(seconds(lambda: run(post_maint)))
                times["check_host"].append(seconds(lambda: check_host("lab1", settings, options)))
                times["run_host"].append(seconds(lambda: run_host("lab1", settings)))
        finally:
            lab.down()
    load = os.getloadavg()[0]
    print(f"one healthy centos6 lab host, {args.repeat} runs each, load average {load:.1f}")
    print(f"{'what':<34}{'median':>10}{'min':>10}")
    rows = [
        ("runbook check (process)", "check"),
        ("invoke post-maint (process)", "post-maint"),
        ("check_host (in process)", "check_host"),
        ("run_host, whole runbook (in process)", "run_host"),
    ]
    for label, key in rows:
        print(f"{label:<34}{statistics.median(times[key]):>9.3f}s{min(times[key]):>9.3f}s")
    for short, long in (("check", "post-maint"), ("check_host", "run_host")):
        ratio = statistics.median(times[short]) / statistics.median(times[long])
        verdict = "no more than" if ratio <= 1 else "MORE than"
        print(f"{short} takes {ratio:.2f}x the time of {long}: {verdict} post-maint")


if __name__ == "__main__":
    main()
