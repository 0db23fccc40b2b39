# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables are shared between the probe's files
# Sections for the before/after comparison (runbook/snapshot/parsers.py); the operator's
# commands are commands.sh's.
# kernel, btime: builtins reading /proc (boot_id is host.sh's). Services by init ($rb_init from host.sh):
# systemd: units (list-units) and unit_files; openrc: rc_status; sysv: rc.links (the /etc/rcN.d
# start and kill links, one glob) or else chkconfig (--list), and sysv.status: NAME and an LSB
# status code for each init script, from builtins (a script's status would start a shell each):
# 0 when its pid file (/var/run/NAME.pid, /run/NAME.pid, /var/run/NAME/NAME.pid,
# /var/run/NAMEd.pid) names a live process or a process is named NAME or NAMEd, 1 for a pid file
# of a dead process, 2 for a /var/lock/subsys/NAME lock with nothing running, else 3.
# sockets: ss -tuln (netlink: the kernel lists only the listening sockets, where reading
# /proc/net/tcp walks its whole hash table), or /proc/net/{tcp,tcp6,udp,udp6} without ss
# (BusyBox); the programs come from pre-maint's own ss -tulnp (runbook/steps/compare.py).
# mounts: findmnt (mounts.findmnt) or /proc/mounts with df -P (mounts.proc, df); fstab.
rb_sec kernel
if rb_line /proc/sys/kernel/osrelease; then echo "$rb_l"; else uname -r; fi
rb_sec btime
while read -r rb_k rb_v; do [ "$rb_k" = btime ] && echo "$rb_v"; done </proc/stat 2>/dev/null
case $rb_init in
systemd)
  rb_run units systemctl list-units --type=service --all --no-legend --no-pager --plain
  rb_run unit_files systemctl list-unit-files --type=service --no-legend --no-pager;;
openrc) rb_run rc_status rc-status -a;;
sysv)
  if [ -d /etc/rc3.d ]; then
    rb_sec rc.links
    for rb_f in /etc/rc[0-6].d/[SK][0-9][0-9]*; do echo "$rb_f"; done
  else rb_run chkconfig chkconfig --list; fi
  rb_sec sysv.status
  rb_comms=" "
  for rb_d in /proc/[0-9]*; do
    if rb_line "$rb_d/comm"; then rb_comms="$rb_comms$rb_l "; fi
  done
  for rb_f in /etc/init.d/*; do
    if [ ! -f "$rb_f" ] || [ ! -x "$rb_f" ]; then continue; fi
    rb_n=${rb_f##*/}; rb_st=3
    for rb_p in "/var/run/$rb_n.pid" "/run/$rb_n.pid" "/var/run/$rb_n/$rb_n.pid" "/var/run/${rb_n}d.pid"; do
      if [ -f "$rb_p" ] && rb_line "$rb_p"; then
        case $rb_l in ""|*[!0-9]*) continue;; esac
        if [ -d "/proc/$rb_l" ]; then rb_st=0; else rb_st=1; fi
        break
      fi
    done
    if [ "$rb_st" = 3 ]; then case $rb_comms in *" $rb_n "*|*" ${rb_n}d "*) rb_st=0;; esac; fi
    if [ "$rb_st" = 3 ] && [ -e "/var/lock/subsys/$rb_n" ]; then rb_st=2; fi
    echo "$rb_n $rb_st"
  done;;
esac
if command -v ss >/dev/null 2>&1; then rb_run sockets ss -tuln
else
  for rb_v in tcp tcp6 udp udp6; do
    if [ -r "/proc/net/$rb_v" ]; then rb_cat "net.$rb_v" "/proc/net/$rb_v"; fi
  done
fi
if command -v findmnt >/dev/null 2>&1; then
  rb_run mounts.findmnt findmnt -rn -b -o TARGET,SOURCE,FSTYPE,OPTIONS,SIZE,USED
else
  rb_cat mounts.proc /proc/mounts
  rb_run df df -P -k
fi
if [ -r /etc/fstab ]; then rb_cat fstab /etc/fstab; fi
