# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables and helpers come from runbook/shell/prelude.sh
# Wait for systemd-timesyncd to synchronise. Arguments: TOKEN SECONDS. Polls timedatectl show
# -p NTPSynchronized once a second, at most SECONDS times; prints the last answer as section
# sync.timedatectl (.rc) and the number of waits as section waited.
rb_tok=$1; rb_max=$2; rb_i=0
while :; do
  rb_o=$(timedatectl show -p NTPSynchronized 2>&1); rb_rc=$?
  if [ "$rb_o" = NTPSynchronized=yes ] || [ "$rb_i" -ge "$rb_max" ]; then break; fi
  rb_i=$((rb_i + 1)); sleep 1
done
rb_sec sync.timedatectl; printf "%s\n" "$rb_o"; rb_sec sync.timedatectl.rc; echo "$rb_rc"
rb_sec waited; echo "$rb_i"
