# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables are shared between the probe's files
# Sections hostname, boot_id, os and init (systemd, openrc, sysv or unknown, kept in $rb_init for the
# daemon fragments); openrc.default lists OpenRC's default runlevel. Builtins where a file says it all.
rb_sec hostname
if rb_line /proc/sys/kernel/hostname && [ -n "$rb_l" ]; then echo "$rb_l"; else uname -n; fi
rb_sec boot_id
if rb_line /proc/sys/kernel/random/boot_id; then echo "$rb_l"; fi
rb_sec os
if [ -r /etc/redhat-release ] && rb_line /etc/redhat-release; then echo "$rb_l"
elif [ -r /etc/os-release ]; then
  while IFS= read -r rb_l || [ -n "$rb_l" ]; do
    case "$rb_l" in PRETTY_NAME=*) echo "${rb_l#PRETTY_NAME=}";; esac
  done </etc/os-release
else uname -sr; fi
rb_sec init
if [ -d /run/systemd/system ]; then rb_init=systemd
elif command -v rc-service >/dev/null 2>&1; then rb_init=openrc
elif [ -x /sbin/service ] || [ -d /etc/init.d ]; then rb_init=sysv
else rb_init=unknown; fi
echo "$rb_init"
if [ "$rb_init" = openrc ]; then rb_run openrc.default rc-update show default; fi
