# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables are shared between the probe's files
# The operator's commands (before_after.commands), as arguments up to --: each runs as
# sh -c COMMAND, its output section op.N and its exit code op.N.rc (N from 0, in order).
rb_i=0
while [ $# -gt 0 ]; do
  rb_a=$1; shift
  if [ "$rb_a" = -- ]; then break; fi
  rb_run "op.$rb_i" sh -c "$rb_a"; rb_i=$((rb_i + 1))
done
