# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables are shared between the probe's files
# systemd-timesyncd: section sync.timedatectl (timedatectl show, .rc) on systemd hosts.
if [ "$rb_init" = systemd ] && command -v timedatectl >/dev/null 2>&1; then
  rb_run sync.timedatectl timedatectl show
fi
