# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables are shared between the probe's files
# chrony: section sync.chronyc (chronyc -n tracking, .rc) and section chrony.conf: "file PATH"
# for each configuration file, then its makestep lines.
if command -v chronyc >/dev/null 2>&1; then rb_run sync.chronyc chronyc -n tracking; fi
if command -v chronyd >/dev/null 2>&1; then
  rb_sec chrony.conf
  for rb_f in /etc/chrony.conf /etc/chrony/chrony.conf /etc/chrony/conf.d/*.conf /etc/chrony.d/*.conf; do
    if [ -f "$rb_f" ]; then echo "file $rb_f"; grep -E "^[[:space:]]*makestep([[:space:]]|$)" "$rb_f"; fi
  done
fi
