# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables are shared between the probe's files
# Section ntpd.options: each options file found ("file PATH") and its option lines: OPTIONS= in
# /etc/sysconfig/ntpd, NTPD_OPTS= in /etc/default/ntp and /etc/default/ntpsec, then the ExecStart=
# lines of the ntpd, ntp and ntpsec systemd units. Read with the shell's own `read` (no grep to
# start), the lines as they are, blanks before the name allowed.
rb_assignments() {
  rb_af=$1; shift
  echo "file $rb_af"
  while IFS= read -r rb_l || [ -n "$rb_l" ]; do
    rb_t=$rb_l
    while :; do case $rb_t in ' '* | '	'*) rb_t=${rb_t#?} ;; *) break ;; esac; done
    for rb_w in "$@"; do
      case $rb_t in "$rb_w="*) printf '%s\n' "$rb_l"; break ;; esac
    done
  done <"$rb_af"
}
rb_sec ntpd.options
for rb_f in /etc/sysconfig/ntpd /etc/default/ntp /etc/default/ntpsec; do
  if [ -f "$rb_f" ]; then rb_assignments "$rb_f" OPTIONS NTPD_OPTS; fi
done
for rb_d in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
  for rb_f in "$rb_d/ntpd.service" "$rb_d/ntp.service" "$rb_d/ntpsec.service"; do
    if [ -f "$rb_f" ]; then rb_assignments "$rb_f" ExecStart; fi
  done
done
