# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables are shared between the probe's files
# Sections for the before/after comparison (runbook/snapshot/parsers.py); the operator's
# commands are commands.sh's.
# kernel, boot_id, btime: builtins reading /proc. Services by init ($rb_init from host.sh):
# systemd: units (list-units) and unit_files; openrc: rc_status; sysv: chkconfig (from the rc
# links, as chkconfig --list prints them) and sysv.status (NAME RC of each init script's status).
# sockets: ss -tulnp; mounts: findmnt (mounts.findmnt) or /proc/mounts with df -P (mounts.proc,
# df); fstab: /etc/fstab.
rb_sec kernel
if rb_line /proc/sys/kernel/osrelease; then echo "$rb_l"; else uname -r; fi
rb_sec boot_id
if rb_line /proc/sys/kernel/random/boot_id; then echo "$rb_l"; fi
rb_sec btime
while read -r rb_k rb_v; do [ "$rb_k" = btime ] && echo "$rb_v"; done </proc/stat 2>/dev/null
case $rb_init in
systemd)
  rb_run units systemctl list-units --type=service --all --no-legend --no-pager --plain
  rb_run unit_files systemctl list-unit-files --type=service --no-legend --no-pager;;
openrc) rb_run rc_status rc-status -a;;
sysv)
  rb_sec chkconfig
  for rb_f in /etc/init.d/*; do
    if [ ! -f "$rb_f" ] || [ ! -x "$rb_f" ]; then continue; fi
    if rb_rc_links "${rb_f##*/}"; then echo "$rb_o"; fi
  done
  rb_sec sysv.status
  for rb_f in /etc/init.d/*; do
    if [ ! -f "$rb_f" ] || [ ! -x "$rb_f" ]; then continue; fi
    case ${rb_f##*/} in
    functions|halt|killall|netconsole|rc|rcS|rc.local|reboot|single|sendsigs|skeleton|umount*|README) continue;;
    esac
    "$rb_f" status >/dev/null 2>&1; echo "${rb_f##*/} $?"
  done;;
esac
if command -v ss >/dev/null 2>&1; then rb_run sockets ss -tulnp; fi
if command -v findmnt >/dev/null 2>&1; then
  rb_run mounts.findmnt findmnt -rn -b -o TARGET,SOURCE,FSTYPE,OPTIONS,SIZE,USED
else
  rb_cat mounts.proc /proc/mounts
  rb_run df df -P -k
fi
if [ -r /etc/fstab ]; then rb_cat fstab /etc/fstab; fi
