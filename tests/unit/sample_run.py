"""A hand-built finished HostRun like the seed incident, with fixed times, for record file and journal tests.

The record's content is tested on a real lab run (``record_seed``); this one is small and stable.
"""

from __future__ import annotations

from runbook.results import CommandRecord, HostRun, Outcome, StepResult
from runbook.settings import NtpSettings, RecordSettings, Settings, parse_window

T0 = 1503360723.0  # 2017-08-22 00:12:03 UTC = 09:12:03 JST


def cmd(
    command: str, exit_code: int | None, at: float, took: float, out: str = "", err: str = ""
) -> CommandRecord:
    return CommandRecord(command, exit_code, stdout=out, stderr=err, started=T0 + at, duration=took)


def seed_settings() -> Settings:
    return Settings(
        ntp=NtpSettings(servers=("ntp1.sakura.ad.jp",)),
        records=RecordSettings(timezone="Asia/Tokyo", operator="ops@monitor01"),
        window=parse_window("2017-08-22 02:00..05:00 Asia/Tokyo"),
    )


def seed_run() -> HostRun:
    """web01 after the provider's maintenance: 3 h behind, ntpd stopped, backup missed; all fixed."""
    ntpdate = "LC_ALL=C ntpdate ntp1.sakura.ad.jp"
    results = [
        StepResult(
            "check_date",
            Outcome.OK,
            "clock 3h 0m 12s behind (10,812.402 s, ±3 ms)",
            [cmd("LC_ALL=C date +%s.%N", 0, 0.0, 0.2, "1503349910.598123456\n")],
            T0,
            0.2,
            {
                "offset": 10812.402,
                "bound": 0.003,
                "server": "ntp1.sakura.ad.jp",
                "stratum": 2,
                "controller_offset": -0.0008,
                "samples": 7,
            },
            kind="clock_check",
            title="check date",
        ),
        StepResult(
            "restart_daemon",
            Outcome.CHANGED,
            "stop FAILED (not running), start OK",
            [
                cmd(
                    "/sbin/service ntpd restart",
                    0,
                    0.3,
                    1.1,
                    "Shutting down ntpd:                                        [FAILED]\n"
                    "Starting ntpd:                                             [  OK  ]\n",
                )
            ],
            T0 + 0.3,
            1.1,
            {"daemon": "ntpd", "was_running": False, "stop": "failed", "start": "ok"},
            warnings=[
                "ntpd runs without -g (/etc/sysconfig/ntpd): after the next long suspension it will exit "
                "at its 1000 s panic threshold instead of recovering; consider adding -g"
            ],
            kind="daemon_restart",
            title="restart time daemon",
        ),
        StepResult(
            "one_shot_sync",
            Outcome.CHANGED,
            "socket in use → stopped ntpd, stepped +10,812.398 s, started ntpd",
            [
                cmd(
                    ntpdate,
                    1,
                    1.5,
                    0.1,
                    "",
                    "22 Aug 06:12:05 ntpdate[3663]: the NTP socket is in use, exiting\n",
                ),
                cmd("/sbin/service ntpd stop", 0, 1.6, 0.3, "Shutting down ntpd:" + " " * 40 + "[  OK  ]\n"),
                cmd(
                    ntpdate,
                    0,
                    1.9,
                    2.9,
                    "22 Aug 09:12:09 ntpdate[3631]: step time server 61.211.161.11 offset 10812.398214 sec\n",
                ),
                cmd("/sbin/service ntpd start", 0, 4.8, 0.1, "Starting ntpd:" + " " * 45 + "[  OK  ]\n"),
            ],
            T0 + 1.5,
            3.4,
            {"fallback": True, "stepped": 10812.398214, "server": "ntp1.sakura.ad.jp", "tool": "ntpdate"},
            kind="clock_sync",
            title="one-shot sync",
        ),
        StepResult(
            "start_enable_daemon",
            Outcome.OK,
            "ntpd running; enabled in runlevels 2–5",
            [cmd("chkconfig --list ntpd", 0, 4.9, 0.1, "ntpd  0:off 1:off 2:on 3:on 4:on 5:on 6:off\n")],
            T0 + 4.9,
            0.1,
            {"daemon": "ntpd", "was_running": True, "was_enabled": True, "running": True, "enabled": True},
            kind="daemon_boot",
            title="start + enable daemon",
        ),
        StepResult(
            "verify",
            Outcome.OK,
            "offset 0.004 s behind ≤ 0.5 s; * peer ntp1.sakura.ad.jp after 11 s",
            [
                cmd(
                    "LC_ALL=C ntpq -pn",
                    0,
                    16.0,
                    0.1,
                    "     remote           refid      st t when poll reach   delay   offset  jitter\n"
                    "==============================================================================\n"
                    "*61.211.161.11   133.243.238.163  2 u    5   64    1    6.123    3.882   0.512\n",
                )
            ],
            T0 + 5.0,
            11.2,
            {"offset": 0.004, "bound": 0.003, "synchronised": True, "peer": "61.211.161.11", "waited": 11.0},
            kind="clock_verify",
            title="verify",
        ),
        StepResult(
            "rerun_backup",
            Outcome.CHANGED,
            "last success 2017-08-21 03:30 JST, due 2017-08-22 03:30; rerun exit 0",
            [
                cmd(
                    "/usr/local/bin/backup.sh",
                    0,
                    16.3,
                    42.0,
                    "dumping database www ... done (212 MB)\narchiving /var/www ... done\nbackup finished\n",
                )
            ],
            T0 + 16.3,
            42.0,
            {"last_success": 1503253800.0, "age": 106923.0, "rerun": True, "exit_code": 0, "duration": 42.0},
            kind="backup_rerun",
            title="rerun missed backup",
        ),
        StepResult(
            "check_site",
            Outcome.OK,
            "https://www.example.jp/ 200 in 184 ms",
            [],
            T0 + 58.4,
            0.3,
            {"checks": [{"url": "https://www.example.jp/", "status": 200, "latency": 0.184, "error": ""}]},
            kind="site_answers",
            title="check site",
        ),
    ]
    return HostRun(
        host="web01.example.jp",
        results=results,
        started=T0,
        finished=T0 + 58.7,
        facts={
            "hostname": "web01.example.jp",
            "address": "203.0.113.10",
            "os": "CentOS 6.9",
            "init": "sysv",
            "daemon": "ntpd",
        },
        connections=1,
    )
