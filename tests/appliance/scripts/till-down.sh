#!/usr/bin/env bash
# till-down.sh — stops a throwaway till started by till-up.sh and removes everything it owns: a clean
# `systemctl poweroff` inside (kill after TILL_STOP_TIMEOUT, default 30 s), slirp4netns, the network
# namespace, the overlay mount, the cgroups and the instance folder. Idempotent: fine when the till is
# already down, powered itself off (UPS drill) or was left half-started by a killed run.
#
# Usage: tests/appliance/scripts/till-down.sh NAME
set -euo pipefail
# shellcheck source=till-lib.sh source-path=SCRIPTDIR
. "$(dirname "$(readlink -f "$0")")/till-lib.sh"

(($# == 1)) || till_die "usage: ${0##*/} NAME"
name=$1
till_check_name "$name"
till_require_root
till_lock_name "$name"
started=$(date +%s.%N)
till_teardown "$name"
took=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
till_log "$name down in ${took}s"
