# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables are shared between the probe's files
# The probe's start. Arguments: TOKEN CRON_SCOPE CLOCK, then each fragment's own (see
# runbook/probe.py). TOKEN marks the section headers; CRON_SCOPE is all, jobs or boot; CLOCK is
# "loop" to answer clock requests first: print @@runbook:clock@@ and the method, then the
# host's time for every empty line on stdin, until stdin ends or a line names the cron scope.
rb_tok=$1; rb_cron=$2; rb_clock=$3; shift 3
if [ "$rb_clock" = loop ]; then
  printf "@@runbook:clock@@\n"
  # shellcheck disable=SC3028 # EPOCHREALTIME is bash's; other shells leave it empty
  if [ -n "${EPOCHREALTIME:-}" ]; then
    echo epochrealtime
    while IFS= read -r rb_l && [ -z "$rb_l" ]; do echo "$EPOCHREALTIME"; done
  else
    echo date
    while IFS= read -r rb_l && [ -z "$rb_l" ]; do date +%s.%N; done
  fi
  case "$rb_l" in boot|jobs|all) rb_cron=$rb_l;; esac
fi
exec </dev/null 2>&1
