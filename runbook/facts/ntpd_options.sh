# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables are shared between the probe's files
# Section ntpd.options: each options file found ("file PATH") and its option lines: OPTIONS= in
# /etc/sysconfig/ntpd, NTPD_OPTS= in /etc/default/ntp and /etc/default/ntpsec, then the ExecStart=
# lines of the ntpd, ntp and ntpsec systemd units.
rb_sec ntpd.options
for rb_f in /etc/sysconfig/ntpd /etc/default/ntp /etc/default/ntpsec; do
  if [ -f "$rb_f" ]; then echo "file $rb_f"; grep -E '^[[:space:]]*(OPTIONS|NTPD_OPTS)=' "$rb_f"; fi
done
for rb_d in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
  for rb_f in "$rb_d/ntpd.service" "$rb_d/ntp.service" "$rb_d/ntpsec.service"; do
    if [ -f "$rb_f" ]; then echo "file $rb_f"; grep -E '^[[:space:]]*ExecStart=' "$rb_f"; fi
  done
done
