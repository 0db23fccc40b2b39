# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables and helpers come from runbook/shell/prelude.sh
# Wait for ntpd/NTPsec to choose a system peer. Arguments: TOKEN SECONDS. Polls ntpq -pn (else
# ntpstat) once a second, at most SECONDS times; prints the last answer as section sync.ntpq or
# sync.ntpstat (.rc; sync.none without either tool) and the number of waits as section waited.
rb_tok=$1; rb_max=$2; rb_i=0
while :; do
  if command -v ntpq >/dev/null 2>&1; then
    rb_n=sync.ntpq; rb_o=$(ntpq -pn 2>&1); rb_rc=$?
    case "$rb_o" in "*"*|o*|*"
*"*|*"
o"*) break;; esac
  elif command -v ntpstat >/dev/null 2>&1; then
    rb_n=sync.ntpstat; rb_o=$(ntpstat 2>&1); rb_rc=$?
    if [ "$rb_rc" = 0 ]; then break; fi
  else
    rb_n=sync.none; rb_o="neither ntpq nor ntpstat is installed"; rb_rc=127; break
  fi
  if [ "$rb_i" -ge "$rb_max" ]; then break; fi
  rb_i=$((rb_i + 1)); sleep 1
done
rb_sec "$rb_n"; printf "%s\n" "$rb_o"; rb_sec "$rb_n.rc"; echo "$rb_rc"; rb_sec waited; echo "$rb_i"
