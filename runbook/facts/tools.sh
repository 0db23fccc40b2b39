# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables are shared between the probe's files
# Section tools: "NAME PATH" for each program named in the arguments (ended by --), "NAME " when absent.
rb_sec tools
while [ $# -gt 0 ]; do
  rb_t=$1; shift
  if [ "$rb_t" = -- ]; then break; fi
  printf "%s " "$rb_t"; command -v "$rb_t" 2>/dev/null || echo
done
