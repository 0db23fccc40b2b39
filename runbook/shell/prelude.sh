# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables are shared between the probe's files
# The runbook's shell helpers, first in the probe and in every wait script.
# rb_sec NAME prints a section header carrying the token $rb_tok; rb_run NAME CMD... prints
# CMD's output as section NAME and its exit code as NAME.rc; rb_line FILE reads FILE's first
# line into $rb_l; rb_cat NAME FILE prints FILE as section NAME (bash reads it without cat).
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; export PATH
rb_sec() { printf "@@runbook:%s@@%s\n" "$1" "$rb_tok"; }
rb_run() {
  rb_n=$1; shift; rb_sec "$rb_n"
  rb_o=$("$@" 2>&1); rb_rc=$?
  if [ -n "$rb_o" ]; then printf "%s\n" "$rb_o"; fi
  rb_sec "$rb_n.rc"; echo "$rb_rc"
}
rb_line() { rb_l=; IFS= read -r rb_l <"$1" 2>/dev/null || [ -n "$rb_l" ]; }
rb_cat() {
  if [ -n "${BASH_VERSION:-}" ] && [ -f "$2" ] && [ -r "$2" ]; then
    rb_sec "$1"
    # shellcheck disable=SC3034 # bash only (BASH_VERSION is set): reads the file without a process
    rb_o=$(<"$2") 2>/dev/null; rb_rc=$?
    if [ -n "$rb_o" ]; then printf "%s\n" "$rb_o"; fi
    rb_sec "$1.rc"; echo "$rb_rc"
  else rb_run "$1" cat -- "$2"; fi
}
