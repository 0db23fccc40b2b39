# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables are shared between the probe's files
# Sections backup.file (the evidence file) and backup.check (the check command, run by eval),
# each with its .rc. Arguments: EVIDENCE_FILE CHECK_COMMAND -- (an empty one is not read).
rb_bf=$1; rb_bc=$2; shift 3
if [ -n "$rb_bf" ]; then rb_cat backup.file "$rb_bf"; fi
if [ -n "$rb_bc" ]; then rb_run backup.check eval "$rb_bc"; fi
