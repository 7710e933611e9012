#!/usr/bin/env bash
# till-up.sh — boots a throwaway Debian 12 till (systemd as PID 1 under systemd-nspawn) on an overlay of
# the golden rootfs, in its own network namespace behind slirp4netns, and waits until it is usable.
#
# Usage: tests/appliance/scripts/till-up.sh NAME PORT
#   NAME   till name (hostname inside), e.g. till-01
#   PORT   sshd of the till on 127.0.0.1:PORT; the KKT adapter (10.0.2.100:8765 inside) on 127.0.0.1:PORT+1,
#          its metrics listener (10.0.2.100:9101 inside) on 127.0.0.1:PORT+2 — loopback only
# Environment: TILL_BOOT_TIMEOUT (s, default 60), TILL_KEEP_ON_FAILURE=1 keeps a till that failed to boot.
#   TILL_FORWARDS="HOST:GUEST ..."  more TCP forwards 127.0.0.1:HOST -> the machine's GUEST port (the central
#                                   server's nginx, Prometheus, Alertmanager)
#   TILL_BIND_RO="SRC:DST ..."      host folders mounted read-only inside (the central server's Odoo tree)
#   TILL_BIND="SRC:DST ..."         host folders mounted read-write inside (the backup storage that outlives
#                                   the central server in the disaster-recovery drill)
#   TILL_HOST_LOOPBACK=1            the machine may reach the host's 127.0.0.1 as 10.0.2.2 (the central
#                                   server pulling backups from tills whose sshd is forwarded there)
# A stale till of the same NAME (killed run, powered off) is removed first. Prints the boot time.
set -euo pipefail
# shellcheck source=till-lib.sh source-path=SCRIPTDIR
. "$(dirname "$(readlink -f "$0")")/till-lib.sh"

(($# == 2)) || till_die "usage: ${0##*/} NAME PORT"
name=$1
port=$2
till_check_name "$name"
if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1024 || port > 65533)); then
  till_die "PORT must be 1024..65533 (PORT+1 and PORT+2 are the adapter's)"
fi
adapter_port=$((port + 1))
metrics_port=$((port + 2))
boot_timeout=${TILL_BOOT_TIMEOUT:-60}
till_require_root
for tool in systemd-nspawn slirp4netns nsenter ip ssh python3; do
  command -v "$tool" >/dev/null || till_die "$tool missing (tests/setup/install-deps.sh installs it)"
done

"$TILL_SCRIPTS_DIR/build-rootfs.sh"

id=$(till_id "$name")
inst=$(till_inst_dir "$name")
merged=$inst/merged
till_lock_name "$name"
if [[ -e $inst || -e /run/netns/$id ]]; then
  till_log "$name: removing a stale instance"
  till_teardown "$name"
fi

# on_exit: a till that did not come up is shown (console tail) and removed, unless asked to keep it.
up_ok=0
on_exit() {
  local rc=$?
  ((up_ok)) && return 0
  if [[ -s $inst/console.log ]]; then
    till_log "$name: last lines of $inst/console.log:"
    tail -n 40 "$inst/console.log" >&2
    mkdir -p "$TILL_INSTANCES"
    cp "$inst/console.log" "$TILL_INSTANCES/$name.failed-console.log" 2>/dev/null &&
      till_log "$name: full console log kept in $TILL_INSTANCES/$name.failed-console.log"
  fi
  if [[ ${TILL_KEEP_ON_FAILURE:-0} == 1 ]]; then
    till_log "$name: kept for inspection (TILL_KEEP_ON_FAILURE=1); remove with till-down.sh $name"
  else
    till_teardown "$name" || true
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

started=$(date +%s.%N)
mkdir -p "$inst/upper" "$inst/work" "$merged"
# Shared lock: no golden rebuild can swap the lower layer while it is being mounted.
(
  flock -s 9
  mount -t overlay overlay -o "lowerdir=$TILL_GOLDEN,upperdir=$inst/upper,workdir=$inst/work" "$merged"
) 9>"$TILL_LOCK"
till_write_identity "$merged" "$name"

# Network: private namespace, slirp4netns user-mode NAT (10.0.2.0/24, DNS 10.0.2.3), API socket for
# port forwards. --disable-host-loopback: the till cannot reach the host's 127.0.0.1 services.
ip netns add "$id"
loopback=(--disable-host-loopback)
[[ ${TILL_HOST_LOOPBACK:-0} == 1 ]] && loopback=()
setsid slirp4netns --configure --mtu=65520 "${loopback[@]}" --api-socket "$inst/slirp.sock" \
  --netns-type=path "/run/netns/$id" tap0 </dev/null >"$inst/slirp.log" 2>&1 9>&- 8>&- &
printf '%s\n' "$!" >"$inst/slirp.pid"
deadline=$((SECONDS + 10))
until [[ -S $inst/slirp.sock ]] && ip -n "$id" -4 -o addr show dev tap0 2>/dev/null | grep -q "inet $TILL_GUEST_ADDR/"; do
  till_pid_alive "$(cat "$inst/slirp.pid")" || { cat "$inst/slirp.log" >&2; till_die "$name: slirp4netns died"; }
  ((SECONDS < deadline)) || {
    ip -n "$id" -4 -o addr show >&2 || true
    till_die "$name: tap0 did not get $TILL_GUEST_ADDR within 10s"
  }
  sleep 0.05
done

# slirp_api JSON: one request on the API socket; fails on an error answer.
slirp_api() {
  python3 - "$inst/slirp.sock" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode())
s.shutdown(socket.SHUT_WR)
answer = b""
while chunk := s.recv(4096):
    answer += chunk
reply = json.loads(answer or b"{}")
if "error" in reply or "return" not in reply:
    sys.exit("slirp4netns API: %s" % reply)
PY
}
hostfwd() {
  slirp_api "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"host_addr\": \"127.0.0.1\", \"host_port\": $1, \"guest_addr\": \"$TILL_GUEST_ADDR\", \"guest_port\": $2}}" ||
    till_die "$name: cannot forward 127.0.0.1:$1 (port in use?)"
}
hostfwd "$port" 22
hostfwd "$adapter_port" "$TILL_ADAPTER_GUEST_PORT"
hostfwd "$metrics_port" "$TILL_METRICS_GUEST_PORT"
for pair in ${TILL_FORWARDS:-}; do
  [[ $pair =~ ^([0-9]+):([0-9]+)$ ]] || till_die "TILL_FORWARDS: '$pair' is not HOST:GUEST"
  hostfwd "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
done

# Boot. The launcher runs in its own session and cgroups, outlives this script and records nspawn's exit.
# TERM=dumb: systemd inside writes a plain (colourless) console.log.
: >"$inst/console.log"
# shellcheck disable=SC2016 # $1/$@ belong to the inner bash
TERM=dumb setsid bash -c '. "$1"; shift; till_launcher "$@"' till-launcher "$TILL_SCRIPTS_DIR/till-lib.sh" \
  "$inst" "$merged" "$name" "$id" "${TILL_BIND_RO:-}" "${TILL_BIND:-}" </dev/null >>"$inst/console.log" 2>&1 9>&- 8>&- &
launcher=$!

# Wait for systemd (running|degraded) and for sshd through the forward.
deadline=$((SECONDS + boot_timeout))
nspawn="" init="" state=""
ssh_opts=(-i "$TILL_SSH_KEY" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  -o LogLevel=ERROR -o ConnectTimeout=2 -o IdentitiesOnly=yes)
while :; do
  ((SECONDS < deadline)) || till_die "$name: not up within ${boot_timeout}s (systemd state: ${state:-unknown})"
  if [[ -z $nspawn ]]; then
    nspawn=$(till_read_pid "$inst/nspawn.pid" || true)
    [[ -n $nspawn ]] || till_pid_alive "$launcher" || till_die "$name: the launcher died before starting systemd-nspawn"
  elif [[ -e $inst/nspawn.rc ]] || ! till_pid_alive "$nspawn"; then
    till_die "$name: systemd-nspawn exited during boot (rc $(cat "$inst/nspawn.rc" 2>/dev/null || echo '?'))"
  elif [[ -z $init ]]; then
    init=$(till_find_init "$nspawn" || true)
    [[ -n $init ]] && printf '%s\n' "$init" >"$inst/init.pid"
  else
    state=$(till_nsenter "$init" systemctl is-system-running 2>/dev/null || true)
    case $state in
      running | degraded)
        ssh "${ssh_opts[@]}" root@127.0.0.1 true 2>/dev/null && break
        ;;
      maintenance | stopping | offline) till_die "$name: systemd is '$state'" ;;
    esac
  fi
  sleep 0.1
done
took=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')

cat >"$inst/instance.env" <<EOF
# Written by till-up.sh: how to reach till $name (sourceable).
TILL_NAME=$name
TILL_NETNS=$id
TILL_SSH_PORT=$port
TILL_ADAPTER_PORT=$adapter_port
TILL_METRICS_PORT=$metrics_port
TILL_GUEST_ADDR=$TILL_GUEST_ADDR
TILL_SSH_KEY=$TILL_SSH_KEY
TILL_INIT_PID=$init
TILL_NSPAWN_PID=$nspawn
EOF
up_ok=1
rm -f "$TILL_INSTANCES/$name.failed-console.log"
if [[ $state == degraded ]]; then
  till_log "$name: systemd is degraded; failed units:"
  till_nsenter "$init" systemctl --failed --no-legend --plain >&2 || true
fi
till_log "$name up in ${took}s (systemd $state): ssh -i $TILL_SSH_KEY -p $port root@127.0.0.1;" \
  "adapter 127.0.0.1:$adapter_port -> $TILL_GUEST_ADDR:$TILL_ADAPTER_GUEST_PORT," \
  "metrics 127.0.0.1:$metrics_port -> $TILL_GUEST_ADDR:$TILL_METRICS_GUEST_PORT; netns $id"
