# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables are shared between the probe's files
# Section ntpdate: classic, or ntpsec when ntpdate is NTPsec's script around ntpdig (empty: none).
rb_sec ntpdate
if [ -n "${BASH_VERSION:-}" ] && hash ntpdate 2>/dev/null; then
  # shellcheck disable=SC3028,SC3054 # bash only: the path bash hashed, no process
  rb_f=${BASH_CMDS[ntpdate]}; rb_h=; rb_x=
  # shellcheck disable=SC3045 # bash only: read the first two bytes
  IFS= read -r -n 2 rb_h <"$rb_f" 2>/dev/null
  # shellcheck disable=SC3034 # bash only: read the script without a process
  if [ "$rb_h" = "#!" ]; then rb_x=$(<"$rb_f") 2>/dev/null; fi
  case "$rb_x" in *ntpdig*) echo ntpsec;; *) echo classic;; esac
elif command -v ntpdate >/dev/null 2>&1; then
  if grep -q ntpdig "$(command -v ntpdate)" 2>/dev/null; then echo ntpsec; else echo classic; fi
fi
