#!/bin/sh
# PID 1 of a lab host, run by the lab inside the host's network namespace as
#   unshare --mount --uts --pid --fork --kill-child --mount-proc sh host-init.sh HOSTDIR TEMPLATE NAME
# with CAP_SYS_TIME already dropped from the bounding set. Mounts the host's private view, applies its
# scenario (state/start.sh, written by the lab) and becomes its sshd.
set -eu
host_dir=$1 template=$2 name=$3

hostname "$name"
mount --make-rprivate /
mount -t tmpfs -o mode=0755 lab-run /run
mkdir -p /run/lab /run/sshd /run/lock
mount --bind "$host_dir/state" /run/lab
# the host's own /proc/stat (its btime is the host's boot), over the /proc unshare mounted, as lxcfs does
mount --bind /run/lab/proc-stat /proc/stat
mount -o remount,bind,ro /proc/stat
# and its own boot id: each start of the host is a new boot, as the lab's /proc/stat btime says
mount --bind /run/lab/boot-id /proc/sys/kernel/random/boot_id
mount -o remount,bind,ro /proc/sys/kernel/random/boot_id
for top in usr etc var; do
    mount -t overlay "lab-$top" \
        -o "lowerdir=$template/$top:/$top,upperdir=$host_dir/upper/$top,workdir=$host_dir/work/$top" "/$top"
done
mount --bind "$host_dir/root" /root
mount -t tmpfs -o mode=1777 lab-tmp /tmp
mount -t tmpfs -o mode=0755 lab-home /home
install -d -m 0700 -o admin -g admin /home/admin
mkdir -p /run/lock/subsys
. /run/lab/start.sh >/run/lab/start.log 2>&1
FAKETIME_SKIP_CMDS=sshd exec /usr/sbin/sshd -D -e
