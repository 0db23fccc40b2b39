"""The centos6 lab host over real SSH: fake clock, SysV ntpd, classic ntpdate, backup, site, sudo."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest

from lab import Lab, LabHost

pytestmark = pytest.mark.lab

THREE_HOURS = 3 * 3600.0
LabHostFactory = Callable[..., LabHost]


def host_offset(host: LabHost, command: str = "date +%s.%N") -> float:
    """The host clock minus the real clock, from one SSH round trip (error below the round trip)."""
    before = time.time()
    done = host.run(command, check=True)
    after = time.time()
    return float(done.stdout.strip()) - (before + after) / 2


def ntp_server(lab: Lab) -> str:
    server: str = lab.record()["ntp_server"]
    return server


def test_date_over_ssh_is_three_hours_behind(lab_host: LabHostFactory) -> None:
    host = lab_host()
    assert host_offset(host) == pytest.approx(-THREE_HOURS, abs=2)
    assert host.run("hostname", check=True).stdout.strip() == host.name


def test_programs_started_with_empty_environment_see_the_fake_clock(lab_host: LabHostFactory) -> None:
    host = lab_host()
    assert host_offset(host, "env -i date +%s") == pytest.approx(-THREE_HOURS, abs=2)


def test_setting_the_clock_moves_only_that_host(lab: Lab, lab_host: LabHostFactory) -> None:
    first, second = lab_host(offset="0"), lab_host(offset="0")
    first.run("date -u -s '2001-02-03 04:05:06'", check=True)
    assert first.run("date -u +%Y-%m-%d", check=True).stdout.strip() == "2001-02-03"
    assert lab.clock_offset(first.name) < -20 * 365 * 86400
    assert host_offset(second) == pytest.approx(0, abs=2)
    assert lab.clock_offset(second.name) == 0


def test_offset_knob_accepts_durations(lab: Lab, lab_host: LabHostFactory) -> None:
    ahead = lab_host(offset="+40y")
    assert lab.clock_offset(ahead.name) == pytest.approx(40 * 365.25 * 86400)
    assert host_offset(ahead) == pytest.approx(40 * 365.25 * 86400, abs=2)


def test_ntpdate_fails_while_ntpd_holds_the_socket(lab: Lab, lab_host: LabHostFactory) -> None:
    host = lab_host(daemon="running")
    done = host.run(f"ntpdate {ntp_server(lab)}")
    assert done.returncode == 1
    assert "the NTP socket is in use, exiting" in done.stdout + done.stderr
    assert lab.clock_offset(host.name) == -THREE_HOURS


def test_stopping_ntpd_lets_ntpdate_step_the_clock(lab: Lab, lab_host: LabHostFactory) -> None:
    host = lab_host(daemon="running")
    stopped = host.run("service ntpd stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "Shutting down ntpd: [  OK  ]" in stopped.stdout
    synced = host.run(f"ntpdate {ntp_server(lab)}")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    step = re.search(r"ntpdate\[\d+\]: step time server (\S+) offset \+(\d+\.\d{6}) sec", synced.stdout)
    assert step is not None, synced.stdout
    assert step.group(1) == ntp_server(lab)
    assert float(step.group(2)) == pytest.approx(THREE_HOURS, abs=2)
    assert host_offset(host) == pytest.approx(0, abs=1)
    assert lab.clock_offset(host.name) == pytest.approx(0, abs=0.5)


def test_service_ntpd_start_status_stop(lab_host: LabHostFactory) -> None:
    host = lab_host()
    assert host.run("/sbin/service ntpd status").stdout.strip() == "ntpd is stopped"
    assert host.run("/sbin/service ntpd status").returncode == 3
    started = host.run("/sbin/service ntpd start")
    assert started.returncode == 0
    assert "Starting ntpd: [  OK  ]" in started.stdout
    status = host.run("/sbin/service ntpd status")
    assert status.returncode == 0
    assert re.fullmatch(r"ntpd \(pid \d+\) is running\.\.\.", status.stdout.strip())
    assert host.run("cat /proc/$(cat /var/run/ntpd.pid)/comm", check=True).stdout.strip() == "ntpd"
    assert host.run("/sbin/service ntpd stop").returncode == 0
    assert host.run("/sbin/service ntpd status").returncode == 3


def test_service_runs_init_scripts_with_only_path_and_term(lab_host: LabHostFactory) -> None:
    """CentOS 6's service (initscripts 9.03) runs the script under ``env -i PATH=... TERM=...`` in /: a
    caller's LC_ALL=C never reaches it (Debian's service passes the locale variables on)."""
    host = lab_host()
    script = '#!/bin/sh\npwd\nenv | cut -d= -f1 | sort\necho "$@"\n'
    assert host.run("cat >/etc/init.d/showenv && chmod 755 /etc/init.d/showenv", input=script).returncode == 0
    done = host.run("cd /tmp && LC_ALL=C LANG=ja_JP.UTF-8 TERM=dumb service showenv status now")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "/" and lines[-1] == "status now"
    assert set(lines[1:-1]) - {"PWD", "SHLVL", "_"} == {"PATH", "TERM"}
    missing = host.run("service nosuch start")
    assert (missing.returncode, missing.stdout, missing.stderr) == (1, "", "nosuch: unrecognized service\n")


def test_crashed_daemon_leaves_a_stale_pid_file(lab_host: LabHostFactory) -> None:
    host = lab_host(daemon="crashed")
    status = host.run("/sbin/service ntpd status")
    assert (status.returncode, status.stdout.strip()) == (1, "ntpd dead but pid file exists")
    assert host.run("/sbin/service ntpd start").returncode == 0
    assert host.run("/sbin/service ntpd status").returncode == 0


def test_chkconfig_turns_ntpd_on(lab_host: LabHostFactory) -> None:
    host = lab_host()
    assert "3:off" in host.run("/sbin/chkconfig --list ntpd", check=True).stdout
    assert host.run("/sbin/chkconfig ntpd on").returncode == 0
    listed = host.run("/sbin/chkconfig --list ntpd", check=True).stdout
    assert re.match(r"ntpd\s+0:off\t1:off\t2:on\t3:on\t4:on\t5:on\t6:off", listed)


def test_ntpd_is_the_real_ntpsec_daemon(lab_host: LabHostFactory) -> None:
    host = lab_host(daemon="running")
    version = host.run("/usr/sbin/ntpd --version", check=True).stdout
    assert "ntpsec" in version.lower()
    listening = host.run("cat /proc/net/udp", check=True).stdout
    assert ":007B " in listening  # UDP 123 held by ntpd


def test_no_ntpdate_knob_removes_ntpdate(lab_host: LabHostFactory) -> None:
    host = lab_host(ntpdate=False)
    assert host.run("command -v ntpdate").returncode != 0
    assert host.run("test -x /usr/sbin/ntpd").returncode == 0


def test_site_answers_and_can_be_down(lab_host: LabHostFactory) -> None:
    up, down = lab_host(), lab_host(site="down")
    with urllib.request.urlopen(f"http://{up.address}/", timeout=5) as response:
        assert response.status == 200
        assert b"It works" in response.read()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://{down.address}/", timeout=5)
    assert down.run("service httpd start").returncode == 0
    with urllib.request.urlopen(f"http://{down.address}/", timeout=5) as response:
        assert response.status == 200


def test_backup_scheduled_in_the_window_was_missed(lab: Lab, lab_host: LabHostFactory) -> None:
    host = lab_host(offset="0")
    profile = lab.record()["profiles"]["centos6"]
    minute, hour = host.run("grep backup.sh /etc/cron.d/backup", check=True).stdout.split()[:2]
    scheduled = time.localtime()
    seconds_ago = (scheduled.tm_hour * 60 + scheduled.tm_min - int(hour) * 60 - int(minute)) % 1440 * 60
    assert 0 < seconds_ago < THREE_HOURS
    last = float(host.run(f"cat {profile['evidence_file']}", check=True).stdout)
    assert profile["max_age"] < time.time() - last < 28 * 3600
    missed = host.run(profile["check_command"])
    assert missed.returncode == 1, missed.stdout
    assert host.run(profile["backup_command"]).returncode == 0
    assert host.run(profile["check_command"]).returncode == 0
    assert float(host.run(f"cat {profile['evidence_file']}", check=True).stdout) == pytest.approx(
        time.time(), abs=5
    )


def test_sudo_user_needs_its_password(lab: Lab, lab_host: LabHostFactory) -> None:
    host = lab_host(user="sudo")
    password = lab.record()["sudo_password"]
    assert host.run("id -un", check=True).stdout.strip() == "admin"
    assert host.run("sudo -S -p '' id -u", input=password + "\n").stdout.strip() == "0"
    assert host.run("sudo -S -p '' id -u", input="wrong\n").returncode != 0


def test_hosts_cannot_set_the_real_clock(lab_host: LabHostFactory) -> None:
    host = lab_host()
    bounding = host.run("grep CapBnd /proc/self/status", check=True).stdout.split()[1]
    assert not int(bounding, 16) & (1 << 25)  # CAP_SYS_TIME
    raw = "import ctypes,os; l=ctypes.CDLL(None,use_errno=True); t=(ctypes.c_long*2)(0,0); "
    raw += "print(l.syscall(227, 0, t), os.strerror(ctypes.get_errno()))"  # clock_settime, past libfaketime
    assert host.run(f'python3 -c "{raw}"', check=True).stdout.strip() == "-1 Operation not permitted"


def test_host_changes_stay_in_the_host(lab_host: LabHostFactory) -> None:
    first, second = lab_host(), lab_host()
    first.run("echo changed > /etc/lab-marker && rm -f /usr/local/bin/backup.sh", check=True)
    assert second.run("test -e /etc/lab-marker").returncode == 1
    assert second.run("test -x /usr/local/bin/backup.sh").returncode == 0
    assert first.run("cat /etc/redhat-release", check=True).stdout.startswith("CentOS release 6")
