#!/bin/sh
# Installs what the runbook lab and its tests need on Debian 12 (run as root; safe to run again):
# busybox is for the tests that run the probe under BusyBox sh, as on Alpine; shellcheck checks
# every .sh file of the package; monitoring-plugins-basic (check_ntp_time) and nagios4-core are
# for the tests of `runbook check` beside the real peer and engine; qemu-system-x86, qemu-utils,
# debootstrap and linux-image-cloud-amd64 (only its /boot/vmlinuz-* and initrd, never booted here)
# are for the VM profiles (lab/vm/).
# While installing, a policy-rc.d stops packages from starting daemons: chronyd must never start
# disciplining this machine's real clock.
set -eu
packages="iproute2 libcap2-bin util-linux openssh-server openssh-client chrony init-system-helpers sudo
openssl gcc make libc6-dev apt dpkg python3 python3-ntp ntpsec-ntpdate ntpsec-ntpdig locales busybox
shellcheck monitoring-plugins-basic nagios4-core qemu-system-x86 qemu-utils debootstrap linux-image-cloud-amd64"
[ "$(id -u)" -eq 0 ] || { echo "install-deps.sh: run as root" >&2; exit 1; }

policy=/usr/sbin/policy-rc.d
made_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=yes
fi
cleanup() { [ "$made_policy" = no ] || rm -f "$policy"; }
trap cleanup EXIT INT TERM

missing=
for package in $packages; do
    dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q ' installed$' || missing="$missing $package"
done
if [ -z "$missing" ]; then
    echo "install-deps.sh: every package the lab needs is installed"
else
    apt-get update
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi
# A Japanese locale for lab hosts whose sessions run in it (the lab's `lang` knob).
locale -a 2>/dev/null | grep -qix 'ja_JP.utf8' || localedef -i ja_JP -f UTF-8 ja_JP.UTF-8
