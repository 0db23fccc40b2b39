"""Fleet benchmark: runbook's post-maint against ansible-playbook and raw Fabric on lab hosts.

Run as root (the lab needs it), on your own lab instance::

    RUNBOOK_LAB_INSTANCE=3 .venv/bin/python benchmarks/fleet.py --sizes 10,50,100

For each size N it brings up N centos6 lab hosts (the default scenario: clock 3 h behind,
ntpd stopped, backup missed) and times, each as its own process:

- ``broken``: ``invoke post-maint`` fixing the N broken hosts (once: it fixes them);
- ``healthy``: ``invoke post-maint`` on the same hosts, now healthy (best of ``--repeat``), each
  with the snapshot ``invoke pre-maint`` took of it after the fix, so ``compare`` compares;
- ``ansible``: ``ansible-playbook`` running the same four checks as shell tasks (date, service
  status, backup evidence, site GET), forks = N, pipelining on, no fact gathering;
- ``fabric``: a Fabric ``ThreadingGroup`` running just runbook's probe command, as runbook
  sends it to a host whose clock it found right (cron scope ``boot``, no clock samples);
- ``four checks``: the same ``ThreadingGroup`` running the playbook's four checks as one command.

Every run gets ``--parallel N`` / forks N. Peak memory is the largest sum of RSS over the
process tree, sampled every 50 ms. It prints a table and, with ``--write-docs``, rewrites
the results section of docs/performance.md. Needs ansible-core (``pip install -e .[bench]``).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from lab import Lab

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- results: begin -->", "<!-- results: end -->"
SAMPLE_EVERY = 0.05
"""Seconds between memory samples of the measured process tree."""
PLAYBOOK = """\
- hosts: lab
  gather_facts: false
  tasks:
    - name: date
      ansible.builtin.shell: date +%s
    - name: time daemon status
      ansible.builtin.shell: /sbin/service ntpd status
    - name: backup evidence
      ansible.builtin.shell: "{check}"
    - name: site GET
      ansible.builtin.shell: curl -fsS -o /dev/null http://127.0.0.1/
"""
PLAYBOOK_PROBE_READS = """\
- hosts: lab
  gather_facts: false
  tasks:
    - name: date
      ansible.builtin.shell: date +%s.%N
    - name: time daemon status
      ansible.builtin.shell: /sbin/service ntpd status
    - name: time daemon sync state
      ansible.builtin.shell: ntpq -c 'rv 0 leap,stratum,refid,offset'
    - name: time daemon options
      ansible.builtin.shell: grep -E '^[[:space:]]*OPTIONS=' /etc/sysconfig/ntpd
    - name: backup evidence
      ansible.builtin.shell: "cat {evidence}; {check}"
    - name: boot, kernel and release
      ansible.builtin.shell: cat /proc/sys/kernel/random/boot_id /etc/redhat-release; uname -r
    - name: services enabled and running
      ansible.builtin.shell: ls /etc/rc3.d; cat /var/run/*.pid
    - name: listening sockets
      ansible.builtin.shell: ss -tuln
    - name: mounts and their use
      ansible.builtin.shell: findmnt -rn -b -o TARGET,SOURCE,FSTYPE,OPTIONS,SIZE,USED; cat /etc/fstab
    - name: cron schedule
      ansible.builtin.shell: cat /etc/crontab /etc/cron.d/* /var/spool/cron/* 2>/dev/null || true
    - name: site GET
      ansible.builtin.shell: curl -fsS -o /dev/null http://127.0.0.1/
"""
"""What the healthy probe reads (with a snapshot to compare with), as one shell task each: the
clock, the daemon, its sync state and options, the backup evidence, boot id, kernel and release,
services, listening sockets, mounts, the cron schedule and the site (``--probe-reads``)."""
ANSIBLE_CFG = """\
[defaults]
forks = {forks}
host_key_checking = True
gathering = explicit
interpreter_python = /usr/bin/python3
stdout_callback = default
retry_files_enabled = False

[ssh_connection]
pipelining = True
ssh_args = -F {ssh_config} -o ControlMaster=auto -o ControlPersist=60s
"""
FABRIC_PROBE = """\
import sys
from fabric import Config, ThreadingGroup
from runbook.probe import probe_command
from runbook.settings import build_settings
ssh_config, hosts = sys.argv[1], sys.argv[2:]
settings = build_settings({"ssh_config": ssh_config, "backup": BACKUP})
command = COMMAND or probe_command(settings, clock_loop=False, cron="boot")
group = ThreadingGroup(*hosts, config=Config(runtime_ssh_path=ssh_config))
results = group.run(command, hide=True, warn=True)
bad = [c.original_host for c, r in results.items() if isinstance(r, Exception) or r.exited != 0]
sys.exit(f"command failed on {bad}" if bad else 0)
"""
FOUR_CHECKS = "date +%s; /sbin/service ntpd status; {check}; curl -fsS -o /dev/null http://127.0.0.1/"


@dataclass
class Timing:
    """One measured run: wall seconds, controller CPU seconds (user + system, the process and
    the children it waited for), the whole machine's busy CPU seconds over the run (controller
    and lab hosts: they share the CPUs), peak tree RSS (MiB), exit status."""

    wall: float
    cpu: float
    machine_cpu: float
    peak_mib: float
    status: int


def compile_bytecode() -> None:
    """Bytecode for runbook, the lab and tasks.py, as a wheel install has runbook's (pip compiles
    at install). Where ``PYTHONDONTWRITEBYTECODE`` is set, every timed run would otherwise compile
    them again on import: about 0.12 s of CPU before the first connection."""
    for package in ("runbook", "lab"):
        compileall.compile_dir(ROOT / package, quiet=1)
    compileall.compile_file(ROOT / "tasks.py", quiet=1)


def machine_busy() -> float:
    """CPU seconds the machine has spent busy since boot (``/proc/stat``: all but idle and iowait)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def tree_rss(root: int) -> int:
    """Sum of RSS (bytes) of ``root`` and all its descendants (``/proc/PID/task/*/children``)."""
    page = os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
            for task in os.listdir(f"/proc/{pid}/task"):
                todo.extend(
                    int(child) for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split()
                )
        except (OSError, ValueError, IndexError):
            continue
    return total


def timed(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None, log: Path) -> Timing:
    """Run ``argv``, timing it and sampling its process tree's memory."""
    started, busy = time.perf_counter(), machine_busy()
    with log.open("w") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss(proc.pid))
                done.wait(SAMPLE_EVERY)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, code, usage = os.wait4(proc.pid, 0)
        wall, machine = time.perf_counter() - started, machine_busy() - busy
        proc.returncode = os.waitstatus_to_exitcode(code)
        done.set()
        sampler.join()
    return Timing(wall, usage.ru_utime + usage.ru_stime, machine, peak / 2**20, proc.returncode)


def post_maint(lab: Lab, hosts: list[str], records: Path, log: Path) -> Timing:
    argv = [sys.executable, "-m", "invoke", "-r", str(ROOT), "-f", str(lab.layout.runbook_yaml), "post-maint"]
    for host in hosts:
        argv += ["--host", host]
    argv += ["--parallel", str(len(hosts)), "--record-dir", str(records)]
    return timed(argv, cwd=ROOT, log=log)


def pre_maint(lab: Lab, hosts: list[str], records: Path, log: Path) -> Timing:
    """``invoke pre-maint``: the snapshots the healthy runs' ``compare`` step compares with."""
    argv = [sys.executable, "-m", "invoke", "-r", str(ROOT), "-f", str(lab.layout.runbook_yaml), "pre-maint"]
    for host in hosts:
        argv += ["--host", host]
    argv += ["--parallel", str(len(hosts)), "--record-dir", str(records)]
    return timed(argv, cwd=ROOT, log=log)


def with_snapshots(snapshots: Path, records: Path) -> Path:
    """``records`` holding a copy of every snapshot, so post-maint's compare finds each host's."""
    records.mkdir(parents=True, exist_ok=True)
    for snapshot in snapshots.glob("*-before-*.json"):
        shutil.copy2(snapshot, records / snapshot.name)
    return records


def ansible(lab: Lab, hosts: list[str], work: Path, log: Path, *, probe_reads: bool = False) -> Timing:
    """ansible-playbook running the four checks, or (``probe_reads``) what the probe reads."""
    profile = lab.record()["profiles"]["centos6"]
    check, evidence = profile["check_command"], profile["evidence_file"]
    (work / "ansible.cfg").write_text(ANSIBLE_CFG.format(forks=len(hosts), ssh_config=lab.layout.ssh_config))
    playbook = PLAYBOOK_PROBE_READS if probe_reads else PLAYBOOK
    (work / "site.yml").write_text(playbook.format(check=check, evidence=evidence))
    (work / "inventory.ini").write_text("[lab]\n" + "\n".join(hosts) + "\n")
    env = {**os.environ, "ANSIBLE_CONFIG": str(work / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    binary = Path(sys.executable).with_name("ansible-playbook")
    return timed([str(binary), "-i", "inventory.ini", "site.yml"], cwd=work, env=env, log=log)


def fabric(lab: Lab, hosts: list[str], work: Path, log: Path, *, four_checks: bool = False) -> Timing:
    """Fabric's ThreadingGroup running runbook's probe, or the playbook's four checks as one command."""
    profile = lab.record()["profiles"]["centos6"]
    backup = {
        "command": profile["backup_command"],
        "evidence_file": profile["evidence_file"],
        "check_command": profile["check_command"],
        "max_age": profile["max_age"],
    }
    command = FOUR_CHECKS.format(check=profile["check_command"]) if four_checks else None
    script = work / "fabric_probe.py"
    script.write_text(f"BACKUP = {backup!r}\nCOMMAND = {command!r}\n" + FABRIC_PROBE)
    return timed([sys.executable, str(script), str(lab.layout.ssh_config), *hosts], cwd=ROOT, log=log)


@dataclass
class Row:
    """One fleet size's measurements."""

    hosts: int
    broken: Timing
    healthy: Timing
    fabric: Timing
    checks: Timing
    ansible: Timing | None
    per_host: tuple[int, int, int]
    ansible_reads: Timing | None = None


def healthy_commands(records: Path) -> tuple[int, int, int]:
    """(connections, commands, round trips) per host, the largest seen, from the fleet record."""
    data = json.loads(sorted(records.glob("fleet-*.json"))[-1].read_text())
    lines = data["hosts"]
    bad = [line["host"] for line in lines if line["outcome"] != "ok"]
    if bad:
        raise SystemExit(f"hosts not healthy in the healthy run: {bad} (see {records})")
    return (
        max(line["connections"] for line in lines),
        max(line["commands"] for line in lines),
        max(line["round_trips"] for line in lines),
    )


def measure(size: int, base: Path, repeat: int, with_ansible: bool, probe_reads: bool = False) -> Row:
    work = base / f"n{size}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    lab = Lab(work / ".lab")
    lab.up(profile="centos6", hosts=size)
    try:
        hosts = [f"lab{n}" for n in range(1, size + 1)]
        broken = post_maint(lab, hosts, work / "broken", work / "broken.log")
        if broken.status != 0:
            raise SystemExit(f"the fixing run failed (exit {broken.status}): see {work / 'broken.log'}")
        taken = pre_maint(lab, hosts, work / "snapshots", work / "snapshots.log")
        if taken.status != 0:
            raise SystemExit(f"pre-maint failed (exit {taken.status}): see {work / 'snapshots.log'}")
        runs = []
        for n in range(repeat):
            records = with_snapshots(work / "snapshots", work / f"healthy{n}")
            runs.append(post_maint(lab, hosts, records, work / f"healthy{n}.log"))
            if runs[-1].status != 0:
                raise SystemExit(f"the healthy run failed: see {work / f'healthy{n}.log'}")
        fabs = [fabric(lab, hosts, work, work / f"fabric{n}.log") for n in range(repeat)]
        checks = [fabric(lab, hosts, work, work / f"checks{n}.log", four_checks=True) for n in range(repeat)]
        if any(t.status for t in fabs + checks):
            raise SystemExit(f"raw Fabric failed: see {work}/fabric*.log, {work}/checks*.log")
        playbook = ansible(lab, hosts, work, work / "ansible.log") if with_ansible else None
        if playbook is not None and playbook.status != 0:
            raise SystemExit(f"ansible-playbook failed: see {work / 'ansible.log'}")
        reads_log = work / "ansible-reads.log"
        reads = ansible(lab, hosts, work, reads_log, probe_reads=True) if probe_reads else None
        if reads is not None and reads.status != 0:
            raise SystemExit(f"ansible-playbook (the probe's reads) failed: see {reads_log}")
        return Row(
            hosts=size,
            broken=broken,
            healthy=min(runs, key=lambda t: t.wall),
            fabric=min(fabs, key=lambda t: t.wall),
            checks=min(checks, key=lambda t: t.wall),
            ansible=playbook,
            per_host=healthy_commands(work / "healthy0"),
            ansible_reads=reads,
        )
    finally:
        lab.down()


def table(rows: list[Row]) -> str:
    head = (
        "| hosts | post-maint healthy | post-maint broken | raw Fabric probe | raw Fabric four checks "
        "| ansible-playbook "
        "| healthy / Fabric | Ansible / healthy | controller CPU s: healthy · broken · Fabric · Ansible "
        "| machine CPU s: healthy · Fabric · four checks · Ansible "
        "| peak MiB: healthy · broken · Fabric · Ansible "
        "| per healthy host: connections · commands · round trips |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|\n"
    )
    lines = []
    for row in rows:
        healthy, broken, fab, checks, ans = row.healthy, row.broken, row.fabric, row.checks, row.ansible
        ans_wall = f"{ans.wall:.2f} s" if ans else "not run"
        ratio = f"{ans.wall / healthy.wall:.1f}x" if ans else "—"
        ans_mem = f"{ans.peak_mib:.0f}" if ans else "—"
        ans_cpu = f"{ans.cpu:.1f}" if ans else "—"
        ans_machine = f"{ans.machine_cpu:.1f}" if ans else "—"
        conns, cmds, trips = row.per_host
        lines.append(
            f"| {row.hosts} | {healthy.wall:.2f} s | {broken.wall:.2f} s | {fab.wall:.2f} s "
            f"| {checks.wall:.2f} s | {ans_wall} "
            f"| {healthy.wall / fab.wall:.2f}x | {ratio} "
            f"| {healthy.cpu:.1f} · {broken.cpu:.1f} · {fab.cpu:.1f} · {ans_cpu} "
            f"| {healthy.machine_cpu:.1f} · {fab.machine_cpu:.1f} · {checks.machine_cpu:.1f} · {ans_machine} "
            f"| {healthy.peak_mib:.0f} · {broken.peak_mib:.0f} · {fab.peak_mib:.0f} · {ans_mem} "
            f"| {conns} · {cmds} · {trips} |"
        )
    return head + "\n".join(lines) + "\n" + reads_table(rows)


def reads_table(rows: list[Row]) -> str:
    """The playbook that reads what the probe reads (``--probe-reads``), against the healthy run."""
    measured = [(row, row.ansible_reads) for row in rows if row.ansible_reads is not None]
    if not measured:
        return ""
    lines = [
        f"| {row.hosts} | {row.healthy.wall:.2f} s | {reads.wall:.2f} s "
        f"| {reads.wall / row.healthy.wall:.1f}x | {reads.cpu:.1f} · {reads.machine_cpu:.1f} "
        f"| {reads.peak_mib:.0f} |"
        for row, reads in measured
    ]
    return (
        "\n| hosts | post-maint healthy | ansible-playbook, the probe's reads | Ansible / healthy "
        "| Ansible CPU s: controller · machine | Ansible peak MiB |\n"
        "|---:|---:|---:|---:|---|---:|\n" + "\n".join(lines) + "\n"
    )


def write_docs(text: str) -> None:
    doc = DOC.read_text()
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{DOC} has no {BEGIN} ... {END} section to replace")
    before, rest = doc.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    DOC.write_text(f"{before}{BEGIN}\n{text}{END}{after}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,50,100", help="host counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="healthy and Fabric runs per size (best kept)")
    parser.add_argument("--dir", default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--no-ansible", action="store_true", help="skip ansible-playbook")
    parser.add_argument(
        "--probe-reads", action="store_true", help="also time a playbook reading what the probe reads"
    )
    parser.add_argument("--write-docs", action="store_true", help=f"rewrite the results in {DOC}")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the lab needs network namespaces")
    sizes = [int(size) for size in args.sizes.split(",")]
    with_ansible = not args.no_ansible
    if with_ansible and not Path(sys.executable).with_name("ansible-playbook").exists():
        raise SystemExit("ansible-playbook is not installed next to this Python: pip install -e '.[bench]'")
    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="runbook-bench-"))
    compile_bytecode()
    rows = []
    for size in sizes:
        print(f"{size} hosts ...", file=sys.stderr, flush=True)
        rows.append(measure(size, base, args.repeat, with_ansible, args.probe_reads and with_ansible))
    machine = (
        f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average at the end {os.getloadavg()[0]:.1f} "
        "(the lab hosts run on the same CPUs as the controller)"
    )
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    text = f"Measured {when} on {machine}, `--repeat {args.repeat}`.\n\n{table(rows)}"
    print(text)
    print(f"logs and records: {base}", file=sys.stderr)
    if args.write_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
