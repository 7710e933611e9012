#!/usr/bin/env bash
# till-exec.sh — runs a command inside a running throwaway till (every namespace of its PID 1, its root,
# a clean environment), without SSH: handy for drills (stop a service, pull the UPS, read the journal).
# The command's exit code is passed through.
#
# Usage: tests/appliance/scripts/till-exec.sh NAME CMD [ARG...]
#   e.g. till-exec.sh till-01 systemctl is-active kkt-adapter
set -euo pipefail
# shellcheck source=till-lib.sh source-path=SCRIPTDIR
. "$(dirname "$(readlink -f "$0")")/till-lib.sh"

(($# >= 2)) || till_die "usage: ${0##*/} NAME CMD [ARG...]"
name=$1
shift
till_check_name "$name"
till_require_root
inst=$(till_inst_dir "$name")
nspawn=$(till_read_pid "$inst/nspawn.pid" || true)
till_pid_is "$nspawn" systemd-nspawn || till_die "$name is not running"
init=$(till_read_pid "$inst/init.pid" || true)
# The recorded PID 1 must still be the container's (it is, unless the till rebooted).
if [[ -z $init ]] || ! awk '/^NSpid:/ { ok = NF >= 3 && $NF == 1 } END { exit !ok }' "/proc/$init/status" 2>/dev/null; then
  init=$(till_find_init "$nspawn") || till_die "$name: no PID 1 found under systemd-nspawn $nspawn"
fi
till_nsenter "$init" "$@"
