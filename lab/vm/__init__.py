"""VM lab hosts: Debian guests under QEMU (TCG) with real kernels, init systems and time daemons.

``images`` builds and caches their disks, ``profiles`` names them (vm-ntp, vm-ntpsec, vm-chrony,
vm-timesyncd), ``machine`` starts one on the lab bridge, ``qmp`` pauses and resumes it.
"""
