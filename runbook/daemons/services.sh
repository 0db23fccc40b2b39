# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables are shared between the probe's files
# Section daemon.FAMILY for every daemon family, in the order of the arguments: each argument
# is one service FAMILY:INIT:NAME:PROGRAM:PIDFILE, up to --. The first service of a family
# installed under the host's init ($rb_init) is read: installed=yes, service=NAME, and a pid
# file naming a live PROGRAM (pidfile=running, pid=, comm=) or else the init system's status
# (section .status, .rc); enablement (.enabled, .rc). None installed: installed=no.
# $rb_running lists the families whose daemon runs, for the sync fragments.
rb_rc_links() {
  # chkconfig --list NAME's answer (in $rb_o) read from the /etc/rcN.d start links; fails
  # unless all seven runlevel directories exist.
  rb_o=; rb_dirs=0
  for rb_v in 0 1 2 3 4 5 6; do
    [ -d "/etc/rc$rb_v.d" ] || continue
    rb_dirs=$((rb_dirs + 1)); rb_s=off
    for rb_f in "/etc/rc$rb_v.d"/S[0-9][0-9]"$1"; do [ -e "$rb_f" ] && rb_s=on; done
    rb_o="$rb_o $rb_v:$rb_s"
  done
  rb_o="$1$rb_o"; [ "$rb_dirs" = 7 ]
}
rb_installed() {
  # The service $rb_sn is defined under $rb_si (not an alias) and its program $rb_sp exists.
  if [ "$rb_si" = systemd ]; then
    rb_en=$(systemctl is-enabled "$rb_sn" 2>&1); rb_enrc=$?
    case "$rb_en" in enabled|enabled-runtime|disabled|static|indirect|linked|generated|masked*) ;; *) return 1;; esac
  elif [ ! -x "/etc/init.d/$rb_sn" ]; then return 1; fi
  [ -z "$rb_sp" ] || command -v "$rb_sp" >/dev/null 2>&1
}
rb_state() {
  rb_d=daemon.$rb_fam
  echo installed=yes; echo "service=$rb_sn"; rb_up=
  if [ -n "$rb_pf" ]; then
    if [ -f "$rb_pf" ]; then rb_line "$rb_pf"
      case "$rb_l" in ""|*[!0-9]*) rb_l=0;; esac
      if [ -d "/proc/$rb_l" ]; then echo pidfile=running; echo "pid=$rb_l"
        if rb_line "/proc/$rb_l/comm"; then echo "comm=$rb_l"; fi
        [ "$rb_l" = "$rb_sp" ] && rb_up=0
      else echo pidfile=stale; fi
    else echo pidfile=absent; fi
  fi
  if [ -z "$rb_up" ]; then
    case $rb_si in
    systemd) rb_run "$rb_d.status" systemctl is-active "$rb_sn";;
    openrc) rb_run "$rb_d.status" rc-service "$rb_sn" status;;
    *) rb_run "$rb_d.status" /sbin/service "$rb_sn" status;;
    esac
    rb_up=$rb_rc
  fi
  case $rb_si in
  systemd) rb_sec "$rb_d.enabled"; echo "$rb_en"; rb_sec "$rb_d.enabled.rc"; echo "$rb_enrc";;
  sysv)
    if rb_rc_links "$rb_sn"; then rb_sec "$rb_d.enabled"; echo "$rb_o"; rb_sec "$rb_d.enabled.rc"; echo 0
    else rb_run "$rb_d.enabled" chkconfig --list "$rb_sn"; fi;;
  esac
  if [ "$rb_up" = 0 ]; then rb_running="$rb_running $rb_fam"; fi
}
rb_family=; rb_found=; rb_running=
while [ $# -gt 0 ]; do
  rb_a=$1; shift
  if [ "$rb_a" = -- ]; then break; fi
  rb_fam=${rb_a%%:*}; rb_a=${rb_a#*:}; rb_si=${rb_a%%:*}; rb_a=${rb_a#*:}
  rb_sn=${rb_a%%:*}; rb_a=${rb_a#*:}; rb_sp=${rb_a%%:*}; rb_pf=${rb_a#*:}
  if [ "$rb_fam" != "$rb_family" ]; then
    if [ -n "$rb_family" ] && [ -z "$rb_found" ]; then echo installed=no; fi
    rb_sec "daemon.$rb_fam"; rb_family=$rb_fam; rb_found=
  fi
  if [ -z "$rb_found" ] && [ "$rb_si" = "$rb_init" ] && rb_installed; then rb_found=1; rb_state; fi
done
if [ -n "$rb_family" ] && [ -z "$rb_found" ]; then echo installed=no; fi
