# shellcheck shell=sh disable=SC2154 # rb_cron (the probe's cron scope) comes from runbook/shell/probe_start.sh
# The host's cron setup, read without changing anything (output format: runbook/cron/fragment.py).
# Arguments: MAX_BYTES HORIZON LAST_LINES PROC_STAT LOCALTIME DEBIAN_VERSION, then pairs
# KIND PATH (file: one file, files: a directory's files, parts: a run-parts directory), then --.
# Reading everything but the boot and the time is skipped when $rb_cron is boot and the
# boot is not recent; when it is jobs (and the boot is not recent), the files are read as
# text lines with builtins (no process; at most MAX_BYTES/64 lines each) but not the
# localtime link nor whether cron runs. Every helper is named rbc_*.
rbc_nl='
'
LC_ALL=C; export LC_ALL
rbc_plain() { case $1 in ''|*[!0-9A-Za-z._+,:=@%~/-]*) return 1;; esac; }
rbc_tag() {
  if rbc_plain "$2"; then printf 'T %s %s' "$1" "$2"
  else
    printf 'B %s ' "$1"; rbc_r=$2
    while [ -n "$rbc_r" ]; do rbc_t=${rbc_r#?}; printf '%02x' "'${rbc_r%"$rbc_t"}"; rbc_r=$rbc_t; done
  fi
  if [ -n "${3:-}" ]; then printf ' %s\n' "$3"; else printf '\n'; fi
}
rbc_line() {
  rbc_l=${rbc_r%%"$rbc_nl"*}; case $rbc_r in *"$rbc_nl"*) rbc_r=${rbc_r#*"$rbc_nl"};; *) rbc_r=;; esac
}
rbc_out() {
  rbc_tag out "$1"; rbc_r=$2; rbc_m=${3:--1}
  while [ -n "$rbc_r" ] && [ "$rbc_m" != 0 ]; do
    rbc_line; printf '| %s\n' "$rbc_l"; rbc_m=$((rbc_m - 1))
  done
}
rbc_wc() {
  rbc_z=
  # shellcheck disable=SC2086 # splits the list of plain names (no blanks, no glob characters) on purpose
  rbc_r=$(wc -c $1)
  # shellcheck disable=SC2086 # splits the list of plain names (no blanks, no glob characters) on purpose
  set -- $1
  while [ -n "$rbc_r" ] && [ $# -gt 0 ]; do
    rbc_line; rbc_l=${rbc_l#"${rbc_l%%[! ]*}"}
    while [ $# -gt 0 ] && [ "${rbc_l#* }" != "$1" ]; do rbc_z="$rbc_z -"; shift; done
    [ $# -gt 0 ] || break
    rbc_n=${rbc_l%% *}; case $rbc_n in ''|*[!0-9]*) rbc_n=-;; esac
    rbc_z="$rbc_z $rbc_n"; shift
  done
  for rbc_l; do rbc_z="$rbc_z -"; done
}
rbc_size() { rbc_n=-; for rbc_n in $(wc -c <"$1"); do :; done; case $rbc_n in ''|*[!0-9]*) rbc_n=-;; esac; }
rbc_one() {
  rbc_size "$1"
  if [ "$rbc_n" = - ]; then rbc_tag gone "$1"
  elif [ "$rbc_n" -gt "$rbc_limit" ]; then rbc_tag big "$1" "$rbc_n"
  else rbc_tag file "$1" "$rbc_n"; od -An -v -tx1 <"$1"; rbc_size "$1"; printf 'S %s\n' "$rbc_n"; fi
}
rbc_text() {
  rbc_tag file "$1"; rbc_n=0; rbc_cut=
  while IFS= read -r rbc_l || [ -n "$rbc_l" ]; do
    if [ "$rbc_n" -ge "$rbc_lines_max" ]; then rbc_cut=1; break; fi
    printf '| %s\n' "$rbc_l"; rbc_n=$((rbc_n + 1))
  done <"$1"
  if [ -n "$rbc_cut" ]; then rbc_tag cut "$1" "$rbc_n"; fi
}
rbc_file() {
  if [ -f "$1" ] && [ -r "$1" ]; then
    if [ -n "$rbc_lines_max" ]; then rbc_text "$1"; return; fi
    case $1 in /*) if rbc_plain "$1"; then rbc_list="$rbc_list $1"; return; fi;; esac
    rbc_one "$1"
  elif [ -e "$1" ]; then rbc_tag denied "$1"; fi
}
rbc_dir() {
  if [ -d "$1" ]; then
    if [ -r "$1" ] && [ -x "$1" ]; then rbc_tag dir "$1"; else rbc_tag denied "$1"; fi
  fi
}
rbc_files() { rbc_dir "$1"; for rbc_f in "$1"/*; do [ -f "$rbc_f" ] && rbc_file "$rbc_f"; done; }
rbc_parts() {
  rbc_dir "$1"
  for rbc_f in "$1"/*; do
    [ -e "$rbc_f" ] || continue
    if [ -f "$rbc_f" ] && [ -x "$rbc_f" ]; then rbc_tag exec "$rbc_f"; else rbc_tag noexec "$rbc_f"; fi
  done
}
rbc_batch() {
  [ -n "$rbc_list" ] || return 0
  rbc_wc "$rbc_list"; rbc_od=
  # shellcheck disable=SC2086 # splits the list of plain names (no blanks, no glob characters) on purpose
  set -- $rbc_list
  for rbc_n in $rbc_z; do
    if [ "$rbc_n" = - ]; then rbc_tag gone "$1"
    elif [ "$rbc_n" -gt "$rbc_limit" ]; then rbc_tag big "$1" "$rbc_n"
    else rbc_tag file "$1" "$rbc_n"; rbc_od="$rbc_od $1"; fi
    shift
  done
  [ -n "$rbc_od" ] || return 0
  # shellcheck disable=SC2086 # splits the list of plain names (no blanks, no glob characters) on purpose
  od -An -v -tx1 $rbc_od; rbc_wc "$rbc_od"; printf 'S%s\n' "$rbc_z"
}
rbc_times() {
  rbc_bt=; rbc_recent=
  if [ -r "$1" ]; then
    while read -r rbc_k rbc_v; do if [ "$rbc_k" = btime ]; then rbc_bt=$rbc_v; break; fi; done <"$1"
  fi
  rbc_out btime "$rbc_bt"
  [ -n "$rbc_bt" ] || rbc_out uptime-s "$(uptime -s)"
  rbc_d=
  # shellcheck disable=SC3045 # bash only (BASH_VERSION is set): the time without a process
  if [ -n "${BASH_VERSION:-}" ]; then printf -v rbc_d '%(%s %z)T' -1 || rbc_d=; fi
  case $rbc_d in [0-9]*' '[+-][0-9]*) ;; *) rbc_d=$(date '+%s %z');; esac
  rbc_out date "$rbc_d"
  rbc_now=${rbc_d%% *}
  case $rbc_bt:$rbc_now in
  *[!0-9:]*|:*|*:|0*|*:0*) ;;
  *) [ $((rbc_now - rbc_bt)) -lt "$rbc_horizon" ] || return 0;;
  esac
  rbc_recent=1
  rbc_out last "$(last -x -F shutdown reboot)" "$rbc_lines"
}
rbc_main() {
  rbc_limit=$1; rbc_horizon=$2; rbc_lines=$3; rbc_stat=$4; rbc_localtime=$5; rbc_debian=$6; shift 6
  printf '@@runbook:cron@@\n'
  rbc_times "$rbc_stat"
  if [ "${rb_cron:-}" = boot ] && [ -z "$rbc_recent" ]; then rbc_tag flag unread; return 0; fi
  rbc_list=; rbc_lines_max=
  if [ "${rb_cron:-}" = jobs ] && [ -z "$rbc_recent" ]; then rbc_lines_max=$((rbc_limit / 64)); fi
  while [ $# -gt 1 ]; do
    case $1 in
    file) rbc_file "$2";;
    files) rbc_files "$2";;
    parts) rbc_parts "$2";;
    esac
    shift 2
  done
  rbc_batch
  if [ -r "$rbc_debian" ]; then rbc_tag flag debian; fi
  if [ "${rb_cron:-}" = jobs ] && [ -z "$rbc_recent" ]; then rbc_tag flag jobs-only; return 0; fi
  if [ -L "$rbc_localtime" ]; then rbc_out localtime "$(readlink "$rbc_localtime")"; fi
  if pidof cron >/dev/null 2>&1; then rbc_tag flag cron-running; fi
}
rbc_main "$@" 2>/dev/null
