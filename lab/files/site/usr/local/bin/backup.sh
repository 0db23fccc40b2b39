#!/bin/sh
# Nightly backup (lab): archives a few files, then records its finish time - epoch seconds from the
# host's clock - in /var/lib/backup/last-success and a line in /var/log/backup.log.
set -eu
dest=/var/backups/lab
mkdir -p "$dest" /var/lib/backup
tar -czf "$dest/backup-$(date +%Y%m%d%H%M%S).tar.gz" -C / etc/hostname etc/cron.d var/www
date +%s >/var/lib/backup/last-success.new
mv /var/lib/backup/last-success.new /var/lib/backup/last-success
echo "$(date '+%Y-%m-%d %H:%M:%S') backup.sh[$$]: backup finished OK" >>/var/log/backup.log
echo "backup finished at $(date)"
