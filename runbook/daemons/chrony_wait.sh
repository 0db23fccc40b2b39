# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables and helpers come from runbook/shell/prelude.sh
# Wait for chronyd to synchronise. Arguments: TOKEN SECONDS. chronyc waitsync checks once a
# second, at most SECONDS times; then chronyc -n tracking is section sync.chronyc (.rc) and the
# number of checks section waited.
rb_tok=$1; rb_max=$2
[ "$rb_max" -ge 1 ] || rb_max=1
rb_o=$(chronyc waitsync "$rb_max" 0 0 1 2>&1)
rb_i=0
while IFS= read -r rb_l; do case "$rb_l" in try:*) rb_i=$((rb_i + 1));; esac; done <<RB_END
$rb_o
RB_END
rb_run sync.chronyc chronyc -n tracking
rb_sec waited; echo "$rb_i"
