# shellcheck shell=sh disable=SC2034,SC2154 # rb_ variables are shared between the probe's files
# Section rtc: yes when the host has a hardware clock device.
rb_sec rtc
if [ -e /dev/rtc ] || [ -e /dev/rtc0 ]; then echo yes; else echo no; fi
