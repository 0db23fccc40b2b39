# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables are shared between the probe's files
# The header of section cron: runbook/cron/fragment.sh follows it.
rb_sec cron
