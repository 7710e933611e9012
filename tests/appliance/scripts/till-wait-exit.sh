#!/usr/bin/env bash
# till-wait-exit.sh — waits until a throwaway till has shut itself down (its systemd-nspawn ended, e.g.
# after the UPS drill's poweroff inside) and prints nspawn's exit code. Run till-down.sh afterwards to
# free the namespace, the mount and the ports.
#
# Usage: tests/appliance/scripts/till-wait-exit.sh NAME [TIMEOUT_SECONDS]   (default 60)
# Exit: 0 the till is down; 124 still running after TIMEOUT; 1 usage or unknown till.
set -euo pipefail
# shellcheck source=till-lib.sh source-path=SCRIPTDIR
. "$(dirname "$(readlink -f "$0")")/till-lib.sh"

(($# == 1 || $# == 2)) || till_die "usage: ${0##*/} NAME [TIMEOUT_SECONDS]"
name=$1
timeout=${2:-60}
till_check_name "$name"
[[ $timeout =~ ^[0-9]+$ ]] || till_die "TIMEOUT must be whole seconds"
inst=$(till_inst_dir "$name")
[[ -d $inst ]] || till_die "$name: no such till (no $inst)"
nspawn=$(till_read_pid "$inst/nspawn.pid" || true)
launcher=$(till_read_pid "$inst/launcher.pid" || true)
started=$(date +%s.%N)
if [[ -n $nspawn ]] && ! till_wait_gone "$nspawn" systemd-nspawn "$timeout"; then
  till_log "$name still running after ${timeout}s"
  exit 124
fi
# The launcher writes nspawn's exit code right after nspawn ends.
if [[ -n $launcher ]]; then
  till_wait_gone "$launcher" bash 5 || true
fi
took=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
till_log "$name is down (waited ${took}s, systemd-nspawn exit code $(cat "$inst/nspawn.rc" 2>/dev/null || echo unknown))"
