"""The one read-only probe: a shell script made of fragments, run once per host.

Each fragment prints a header line ``@@runbook:NAME@@TOKEN`` and then its own lines; a command
whose exit code matters is wrapped so that its output is section ``NAME`` and its exit
code section ``NAME.rc``. ``split_sections`` turns the output back into ``{NAME: text}``.
``TOKEN`` is random per probe (``new_token``): host content (an evidence file, a command's
output) cannot guess it, so it cannot fake a section.

The script is POSIX sh; ``probe_command`` runs it in bash when the host has bash, for three
things sh lacks: ``$EPOCHREALTIME`` (clock samples without a process each), ``$EPOCHSECONDS``
and ``/dev/udp`` (ntpd's sync state by one NTP mode 6 query instead of ``ntpq``). A healthy
host's facts come from shell builtins where a file says it all (hostname, OS, pid files,
``/etc/rcN.d`` links): on a loaded fleet every process a host starts is time.

With ``clock_loop`` the script starts by answering clock requests: it prints
``@@runbook:clock@@`` and the method (``epochrealtime`` or ``date``), then answers every
empty line it reads on stdin with the host's time, until stdin ends or a line says how
much of the cron setup to read (``CRON_SCOPES``); then it runs the fragments with stdin
from /dev/null. Every value from settings is quoted with
``shlex.quote``; the script itself is quoted once more, as the login shell's ``$rb_s``.
"""

from __future__ import annotations

import re
import secrets
import shlex

from runbook import ntpd_options
from runbook.cron import cron_fragment
from runbook.settings import Settings
from runbook.timeservice import FAMILIES, SERVICES, TimeService

TOOLS = (
    "ntpdate",
    "ntpd",
    "ntpdig",
    "sntp",
    "chronyd",
    "chronyc",
    "timedatectl",
    "hwclock",
    "ntpq",
    "ntpstat",
)
"""Programs whose presence the probe reports (``command -v``)."""

CRON_SCOPES = ("all", "boot")
"""How much of the cron setup the probe reads: ``all``; or ``boot``, only the boot and the
host's time unless the boot is recent (no window is possible otherwise: the clock does not
lag). The controller's last line to the clock loop sets it; without a loop, ``probe_script``'s
``cron`` argument (default ``all``)."""

_HEADER = re.compile(r"^@@runbook:([A-Za-z0-9._-]+)@@([0-9a-f]*)$")
_TOKEN = re.compile(r"^[0-9a-f]*$")

_PRELUDE = r"""PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; export PATH
rb_sec() { printf "@@runbook:%s@@%s\n" "$1" "$rb_tok"; }
rb_run() {
  rb_n=$1; shift; rb_sec "$rb_n"
  rb_o=$("$@" 2>&1); rb_rc=$?
  if [ -n "$rb_o" ]; then printf "%s\n" "$rb_o"; fi
  rb_sec "$rb_n.rc"; echo "$rb_rc"
}
rb_line() { rb_l=; IFS= read -r rb_l <"$1" 2>/dev/null || [ -n "$rb_l" ]; }
rb_cat() {
  if [ -n "${BASH_VERSION:-}" ] && [ -f "$2" ] && [ -r "$2" ]; then
    rb_sec "$1"; rb_o=$(<"$2") 2>/dev/null; rb_rc=$?
    if [ -n "$rb_o" ]; then printf "%s\n" "$rb_o"; fi
    rb_sec "$1.rc"; echo "$rb_rc"
  else rb_run "$1" cat -- "$2"; fi
}
"""

_CLOCK_LOOP = r"""printf "@@runbook:clock@@\n"
if [ -n "${EPOCHREALTIME:-}" ]; then
  echo epochrealtime
  while IFS= read -r rb_l && [ -z "$rb_l" ]; do echo "$EPOCHREALTIME"; done
else
  echo date
  while IFS= read -r rb_l && [ -z "$rb_l" ]; do date +%s.%N; done
fi
case "$rb_l" in boot|all) rb_cron=$rb_l;; esac
exec </dev/null 2>&1
"""

_HOST = r"""rb_sec hostname
if rb_line /proc/sys/kernel/hostname && [ -n "$rb_l" ]; then echo "$rb_l"; else uname -n; fi
rb_sec boot_id
if rb_line /proc/sys/kernel/random/boot_id; then echo "$rb_l"; fi
rb_sec os
if [ -r /etc/redhat-release ] && rb_line /etc/redhat-release; then echo "$rb_l"
elif [ -r /etc/os-release ]; then
  while IFS= read -r rb_l || [ -n "$rb_l" ]; do
    case "$rb_l" in PRETTY_NAME=*) echo "${rb_l#PRETTY_NAME=}";; esac
  done </etc/os-release
else uname -sr; fi
rb_sec init
if [ -d /run/systemd/system ]; then rb_init=systemd
elif command -v rc-service >/dev/null 2>&1; then rb_init=openrc
elif [ -x /sbin/service ] || [ -d /etc/init.d ]; then rb_init=sysv
else rb_init=unknown; fi
echo "$rb_init"
if [ "$rb_init" = openrc ]; then rb_run openrc.default rc-update show default; fi
"""

_SYSV_ENABLED = r"""rb_rc_links() {
  rb_o=; rb_dirs=0
  for rb_v in 0 1 2 3 4 5 6; do
    [ -d "/etc/rc$rb_v.d" ] || continue
    rb_dirs=$((rb_dirs + 1)); rb_s=off
    for rb_f in "/etc/rc$rb_v.d"/S[0-9][0-9]"$1"; do [ -e "$rb_f" ] && rb_s=on; done
    rb_o="$rb_o $rb_v:$rb_s"
  done
  rb_o="$1$rb_o"; [ "$rb_dirs" = 7 ]
}
"""
"""``chkconfig --list NAME``'s answer (in ``$rb_o``) read from the /etc/rcN.d start links,
without a process. Fails unless all seven runlevel directories exist; the probe then asks
``chkconfig`` itself."""

_READVAR = r"""rb_readvar() {
  printf '\026\002\000\001\000\000\000\000\000\000\000\036leap,stratum,refid,peer,offset\000\000' >&3 &&
    timeout 2 dd bs=4096 count=1 <&3 2>/dev/null | od -An -v -tx1
} 3<>/dev/udp/127.0.0.1/123
"""
"""NTP mode 6 ``readvar`` of ntpd's system variables over bash's /dev/udp: ``ntpstat``'s query.

Prints the reply as hex. Called only from bash (dash would treat the path as a file).
"""

_SYNC_NTPD = r"""if [ "$rb_up" = 0 ]; then
  rb_o=
  if [ -n "${BASH_VERSION:-}" ] && command -v timeout >/dev/null 2>&1 && command -v od >/dev/null 2>&1; then
    rb_o=$(rb_readvar 2>/dev/null)
    rb_sec sync.readvar; printf "%s\n" "$rb_o"
  fi
  case "$rb_o" in
  " "[0-9a-f]"6 82 "*) ;;
  *)
    if command -v ntpq >/dev/null 2>&1; then rb_run sync.ntpq ntpq -pn; fi
    if command -v ntpstat >/dev/null 2>&1; then rb_run sync.ntpstat ntpstat; fi;;
  esac
fi
"""
"""ntpd's sync state: the mode 6 query when bash can send it, else (or when it gets no
well-formed answer) ``ntpq -pn``."""


def _installed(service: TimeService) -> str:
    """Lines printed when ``service`` is the family's installed one: name, pid file, status, enablement.

    A pid file naming a live process of the daemon's program proves it runs without asking
    the init system (``pid=`` and ``comm=`` fields); otherwise the init system's status answers.
    """
    name = f"daemon.{service.daemon}"
    lines = ["echo installed=yes", f"echo service={shlex.quote(service.name)}", "rb_up="]
    if service.pid_file:
        pid_file = shlex.quote(service.pid_file)
        lines.append(
            f"if [ -f {pid_file} ]; then rb_line {pid_file}\n"
            '  case "$rb_l" in ""|*[!0-9]*) rb_l=0;; esac\n'
            '  if [ -d "/proc/$rb_l" ]; then echo pidfile=running; echo "pid=$rb_l"\n'
            '    if rb_line "/proc/$rb_l/comm"; then echo "comm=$rb_l"; fi\n'
            f'    [ "$rb_l" = {shlex.quote(service.program)} ] && rb_up=0\n'
            "  else echo pidfile=stale; fi\n"
            "else echo pidfile=absent; fi"
        )
    lines.append(f'if [ -z "$rb_up" ]; then rb_run {name}.status {service.status()}; rb_up=$rb_rc; fi')
    if service.init == "systemd":
        lines.append(f'rb_sec {name}.enabled; echo "$rb_en"; rb_sec {name}.enabled.rc; echo "$rb_enrc"')
    elif service.init == "sysv":
        lines.append(
            f"if rb_rc_links {shlex.quote(service.name)}; then\n"
            f'  rb_sec {name}.enabled; echo "$rb_o"; rb_sec {name}.enabled.rc; echo 0\n'
            f"else rb_run {name}.enabled {service.enabled_query()}; fi"
        )
    if service.daemon in {"ntpd", "ntpsec"}:
        lines.append(_SYNC_NTPD.rstrip("\n"))
    return "\n".join(lines) + "\n"


def _daemon(family: str) -> str:
    """Section ``daemon.FAMILY``: the first installed service of the family under the host's init."""
    branches = []
    for init in ("systemd", "openrc", "sysv"):
        found = [s for s in SERVICES if s.daemon == family and s.init == init]
        if not found:
            continue
        chain = "".join(
            f"{'if' if i == 0 else 'elif'} {s.installed_test()}; then\n{_installed(s)}"
            for i, s in enumerate(found)
        )
        branches.append(f"{init})\n{chain}else echo installed=no; fi;;\n")
    return f'rb_sec daemon.{family}\ncase "$rb_init" in\n{"".join(branches)}*) echo installed=no;;\nesac\n'


_TIME_TOOLS = r"""if command -v chronyc >/dev/null 2>&1; then rb_run sync.chronyc chronyc -n tracking; fi
if [ "$rb_init" = systemd ] && command -v timedatectl >/dev/null 2>&1; then
  rb_run sync.timedatectl timedatectl show
fi
if command -v chronyd >/dev/null 2>&1; then
  rb_sec chrony.conf
  for rb_f in /etc/chrony.conf /etc/chrony/chrony.conf /etc/chrony/conf.d/*.conf /etc/chrony.d/*.conf; do
    if [ -f "$rb_f" ]; then echo "file $rb_f"; grep -E "^[[:space:]]*makestep([[:space:]]|$)" "$rb_f"; fi
  done
fi
rb_sec ntpdate
if [ -n "${BASH_VERSION:-}" ] && hash ntpdate 2>/dev/null; then
  rb_f=${BASH_CMDS[ntpdate]}; rb_h=; rb_x=
  IFS= read -r -n 2 rb_h <"$rb_f" 2>/dev/null
  if [ "$rb_h" = "#!" ]; then rb_x=$(<"$rb_f") 2>/dev/null; fi
  case "$rb_x" in *ntpdig*) echo ntpsec;; *) echo classic;; esac
elif command -v ntpdate >/dev/null 2>&1; then
  if grep -q ntpdig "$(command -v ntpdate)" 2>/dev/null; then echo ntpsec; else echo classic; fi
fi
rb_sec rtc
if [ -e /dev/rtc ] || [ -e /dev/rtc0 ]; then echo yes; else echo no; fi
"""


_TOOLS = r"""rb_sec tools
for rb_t in {tools}; do printf "%s " "$rb_t"; command -v "$rb_t" 2>/dev/null || echo; done
"""


def _backup(settings: Settings) -> str:
    backup = settings.backup
    if backup is None:
        return ""
    lines = []
    if backup.evidence_file:
        lines.append(f"rb_cat backup.file {shlex.quote(backup.evidence_file)}")
    if backup.check_command:
        lines.append(f"rb_run backup.check eval {shlex.quote(backup.check_command)}")
    return "".join(line + "\n" for line in lines)


def new_token() -> str:
    """A fresh random token for the probe's section headers."""
    return secrets.token_hex(8)


def probe_script(settings: Settings, *, clock_loop: bool, token: str = "", cron: str = "all") -> str:
    """The probe as a POSIX shell script (see the module docstring for its output).

    Section headers carry ``token`` (hex; ``""`` gives plain headers); the clock header
    read during the clock loop is always plain. ``cron`` is the cron scope (``CRON_SCOPES``)
    when no clock loop line overrides it.
    """
    if not _TOKEN.match(token):
        raise ValueError(f"probe token {token!r} is not hexadecimal")
    if cron not in CRON_SCOPES:
        raise ValueError(f"cron scope {cron!r} is not one of {', '.join(CRON_SCOPES)}")
    parts = ["set --\n", _PRELUDE, _SYSV_ENABLED, _READVAR, f"rb_tok={token}\nrb_cron={cron}\n"]
    if clock_loop:
        parts.append(_CLOCK_LOOP)
    else:
        parts.append("exec </dev/null 2>&1\n")
    parts.append(_HOST)
    parts.extend(_daemon(family) for family in FAMILIES)
    parts.append(_TIME_TOOLS)
    parts.append(ntpd_options.FRAGMENT)
    parts.append(_TOOLS.format(tools=" ".join(TOOLS)))
    parts.append(_backup(settings))
    parts.append("rb_sec cron\n")
    parts.append(cron_fragment())
    parts.append('rb_sec date; if [ -n "${EPOCHSECONDS:-}" ]; then echo "$EPOCHSECONDS"; else date +%s; fi\n')
    return "".join(parts)


def probe_command(settings: Settings, *, clock_loop: bool, token: str = "", cron: str = "all") -> str:
    """The probe script under ``LC_ALL=C``, run by the login shell itself when that is bash,
    else by bash when the host has it, else by the login shell (POSIX sh)."""
    script = shlex.quote(probe_script(settings, clock_loop=clock_loop, token=token, cron=cron))
    return (
        f"LC_ALL=C; export LC_ALL; rb_s={script}\n"
        'if [ -z "${BASH_VERSION:-}" ] && command -v bash >/dev/null 2>&1; '
        'then exec bash -c "$rb_s" runbook-probe; fi\n'
        'eval "$rb_s"'
    )


def clock_command(samples: int) -> str:
    """Non-interactive clock sampling: a ``clock`` section with ``samples`` ``date +%s.%N`` lines."""
    dates = "; ".join(["date +%s.%N"] * max(1, samples))
    return f"sh -c {shlex.quote(f'echo @@runbook:clock@@; echo date; {dates}')}"


def split_sections(text: str, token: str = "") -> dict[str, str]:
    """``{NAME: body}`` from probe output; lines before the first header go under ``""``.

    Only header lines carrying exactly ``token`` count; any other line is body text. Lines
    end at ``\n`` only. A name seen twice gets both bodies, joined. Never raises.
    """
    sections: dict[str, list[str]] = {}
    current = ""
    for raw in text.removesuffix("\n").split("\n"):
        line = raw.removesuffix("\r")
        header = _HEADER.match(line)
        if header and header.group(2) == token:
            current = header.group(1)
            sections.setdefault(current, [])
        else:
            sections.setdefault(current, []).append(line)
    return {name: "\n".join(lines) for name, lines in sections.items() if name or any(lines)}


def sync_wait_command(seconds: int) -> str:
    """Poll ``ntpq -pn`` (else ``ntpstat``) once a second until a system peer, at most ``seconds`` times.

    Prints the last answer as section ``sync.ntpq`` or ``sync.ntpstat`` (with ``.rc``) and
    the number of waits as section ``waited``.
    """
    script = (
        _PRELUDE
        + f"""rb_tok=
rb_i=0
while :; do
  if command -v ntpq >/dev/null 2>&1; then
    rb_n=sync.ntpq; rb_o=$(ntpq -pn 2>&1); rb_rc=$?
    if printf "%s\\n" "$rb_o" | grep -q "^[*o]"; then break; fi
  elif command -v ntpstat >/dev/null 2>&1; then
    rb_n=sync.ntpstat; rb_o=$(ntpstat 2>&1); rb_rc=$?
    if [ "$rb_rc" = 0 ]; then break; fi
  else
    rb_n=sync.none; rb_o="neither ntpq nor ntpstat is installed"; rb_rc=127; break
  fi
  if [ "$rb_i" -ge {int(seconds)} ]; then break; fi
  rb_i=$((rb_i + 1)); sleep 1
done
rb_sec "$rb_n"; printf "%s\\n" "$rb_o"; rb_sec "$rb_n.rc"; echo "$rb_rc"; rb_sec waited; echo "$rb_i"
"""
    )
    return f"sh -c {shlex.quote(script)}"


def daemon_wait_command(family: str, seconds: int) -> str:
    """Wait (at most ``seconds``, polling once a second) until ``family`` is synchronised.

    chronyd: ``chronyc waitsync`` then ``chronyc -n tracking`` as section ``sync.chronyc``;
    systemd-timesyncd: ``timedatectl show -p NTPSynchronized`` as ``sync.timedatectl``;
    others: ``sync_wait_command``. Section ``waited`` says how many polls it took.
    """
    n = int(seconds)
    if family == "chronyd":
        body = f"""rb_tok=
rb_o=$(chronyc waitsync {max(1, n)} 0 0 1 2>&1); rb_i=$(printf "%s\\n" "$rb_o" | grep -c "^try:")
rb_run sync.chronyc chronyc -n tracking
rb_sec waited; echo "$rb_i"
"""
    elif family == "systemd-timesyncd":
        body = f"""rb_tok=
rb_i=0
while :; do
  rb_o=$(timedatectl show -p NTPSynchronized 2>&1); rb_rc=$?
  if [ "$rb_o" = NTPSynchronized=yes ] || [ "$rb_i" -ge {n} ]; then break; fi
  rb_i=$((rb_i + 1)); sleep 1
done
rb_sec sync.timedatectl; printf "%s\\n" "$rb_o"; rb_sec sync.timedatectl.rc; echo "$rb_rc"
rb_sec waited; echo "$rb_i"
"""
    else:
        return sync_wait_command(seconds)
    return f"sh -c {shlex.quote(_PRELUDE + body)}"
