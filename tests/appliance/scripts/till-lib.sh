# till-lib.sh — helpers shared by the throwaway-till harness scripts (build-rootfs, till-up, till-down,
# till-exec, till-wait-exit). Sourced, never run. Everything lives under the git-ignored build/appliance/.
#
# One till NAME owns host-global resources named by its "id" (NAME plus a hash of this checkout's build
# folder), so two checkouts on one machine never share a network namespace or a cgroup:
#   /run/netns/<id>                                        its network namespace (slirp4netns tap0)
#   /sys/fs/cgroup/{systemd,unified}/till-harness/<id>/    the launcher's cgroup (nspawn adds payload/...)
#   build/appliance/instances/NAME/                        overlay upper/work/merged, pids, console.log
# shellcheck shell=bash

# Variables below are read by the scripts that source this file.
# shellcheck disable=SC2034
TILL_SCRIPTS_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
TILL_REPO_ROOT=$(cd "$TILL_SCRIPTS_DIR/../../.." && pwd)
TILL_BUILD=${TILL_BUILD_DIR:-$TILL_REPO_ROOT/build/appliance}
TILL_GOLDEN=$TILL_BUILD/rootfs-golden
TILL_GOLDEN_STAMP=$TILL_BUILD/rootfs-golden.stamp
TILL_LOCK=$TILL_BUILD/.rootfs.lock
TILL_SSH_KEY=$TILL_BUILD/ssh/id_ed25519
TILL_INSTANCES=$TILL_BUILD/instances
# The only release the harness builds; the roles target Debian 12.
TILL_SUITE=bookworm
# slirp4netns --configure defaults (checked by till-up against tap0 in the namespace).
TILL_GUEST_ADDR=10.0.2.100
TILL_SLIRP_DNS=10.0.2.3
# Ports inside the till forwarded to 127.0.0.1 on the host: the KKT adapter's API (host PORT+1) and its
# metrics-only listener for Prometheus (host PORT+2).
TILL_ADAPTER_GUEST_PORT=8765
TILL_METRICS_GUEST_PORT=9101
TILL_CGROUP_PARENT=till-harness
# Hybrid layout (these machines): name=systemd v1 plus cgroup2 under unified/. A pure cgroup2 host has
# one hierarchy at /sys/fs/cgroup (not measured here).
if [[ -e /sys/fs/cgroup/cgroup.controllers ]]; then
  TILL_CGROUP_HIERARCHIES=(/sys/fs/cgroup)
else
  TILL_CGROUP_HIERARCHIES=(/sys/fs/cgroup/systemd /sys/fs/cgroup/unified)
fi
# Clean environment for commands run inside a till (no host venv, no host locale quirks).
TILL_INNER_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

till_log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
till_die() {
  till_log "error: $*"
  exit 1
}

till_require_root() { ((EUID == 0)) || till_die "must run as root (network namespaces, overlayfs, nspawn)"; }

# Machine names double as hostnames, netns and cgroup names: keep them short and boring.
till_check_name() {
  [[ $1 =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] || till_die "bad till name '$1' (lowercase letters, digits, '-'; at most 31)"
}

till_id() { printf '%s-%s' "$1" "$(printf '%s' "$TILL_BUILD" | sha256sum | cut -c1-6)"; }
till_inst_dir() { printf '%s/%s' "$TILL_INSTANCES" "$1"; }

# till_pid_is PID NAME: the process exists and its argv[0] basename is NAME (guards against pid reuse).
till_pid_is() {
  local pid=$1 want=$2 argv0
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  argv0=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n1) || return 1
  [[ ${argv0##*/} == "$want" ]]
}

# till_pid_alive PID: the process exists and is not a zombie (right after a fork its argv may still be
# the parent's, so this is the check to use for a pid just started).
till_pid_alive() {
  local state
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  state=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

till_read_pid() { [[ -s $1 ]] && tr -dc '0-9' <"$1"; }

# till_find_procs NAME ARG: pids whose argv[0] basename is NAME and whose argv holds ARG exactly.
till_find_procs() {
  local want=$1 arg=$2 p
  for p in /proc/[0-9]*; do
    [[ -r $p/cmdline ]] || continue
    if tr '\0' '\n' <"$p/cmdline" 2>/dev/null | awk -v w="$want" -v a="$arg" '
        NR == 1 { n = split($0, parts, "/"); if (parts[n] != w) exit 1; next }
        $0 == a { found = 1 }
        END { exit !found }'; then
      printf '%s\n' "${p#/proc/}"
    fi
  done
}

# till_find_init NSPAWN_PID: the container's PID 1 (seen from the host), a descendant of nspawn whose
# innermost pid is 1.
till_find_init() {
  local nspawn=$1 p nspid ppid cur
  for p in /proc/[0-9]*; do
    nspid=$(awk '/^NSpid:/ { print NF - 1, $NF }' "$p/status" 2>/dev/null) || continue
    [[ $nspid == "1 "* || -z $nspid ]] && continue
    [[ ${nspid##* } == 1 ]] || continue
    cur=${p#/proc/}
    for _ in 1 2 3 4; do
      ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$cur/status" 2>/dev/null) || break
      if [[ $ppid == "$nspawn" ]]; then
        printf '%s\n' "${p#/proc/}"
        return 0
      fi
      cur=$ppid
    done
  done
  return 1
}

# till_nsenter INIT_PID CMD...: run CMD inside the container (every namespace, its root and cwd).
till_nsenter() {
  local init=$1
  shift
  nsenter -t "$init" -a -r -w env -i PATH="$TILL_INNER_PATH" HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@"
}

# till_host_apt uri|sources|hosts|conf: the host's own Debian apt configuration, for debootstrap and for
# apt inside the till.
#   uri      first URI of a deb entry for the plain suite (the debootstrap mirror)
#   sources  deb822 stanzas for every deb entry of the suite family (bookworm, -updates, -security)
#            signed by Debian's archive keyring (third-party repositories are left out)
#   hosts    /etc/hosts lines of the host naming those mirrors (farms pin mirrors there; the till's DNS
#            through slirp does not read the host's /etc/hosts)
#   conf     Acquire:: settings of the host that decide whether the mirror is usable (Check-Valid-Until
#            for snapshot mirrors, proxies)
till_host_apt() {
  local mode=$1 conf_dump=""
  if [[ $mode == conf ]]; then
    conf_dump=$(apt-config dump 2>/dev/null || true)
  fi
  python3 - "$mode" "$TILL_SUITE" "$conf_dump" <<'PY'
import glob, os, re, sys
from urllib.parse import urlsplit

mode, suite, conf_dump = sys.argv[1], sys.argv[2], sys.argv[3]
entries = []  # (uris, suites, components, signed_by)


def parse_deb822(text):
    for block in re.split(r"\n\s*\n", text):
        fields, key = {}, None
        for line in block.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line[0] in " \t" and key:
                fields[key] += " " + line.strip()
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        entries.append((fields.get("uris", "").split(), fields.get("suites", "").split(),
                        fields.get("components", "main").split(), fields.get("signed-by", "")))


def parse_one_line(text):
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        options = ""
        m = re.match(r"deb\s+\[([^\]]*)\]\s+(.*)", line)
        if m:
            options, rest = m.group(1), m.group(2)
        else:
            rest = line[4:]
        parts = rest.split()
        if len(parts) < 2:
            continue
        signed = re.search(r"signed-by=(\S+)", options)
        entries.append(([parts[0]], [parts[1]], parts[2:] or ["main"], signed.group(1) if signed else ""))


paths = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
for path in paths:
    if os.path.isfile(path):
        parse_one_line(open(path, encoding="utf-8").read())
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    parse_deb822(open(path, encoding="utf-8").read())


def ours(entry):
    uris, suites, _, signed = entry
    family = all(s == suite or s.startswith(suite + "-") or s.startswith(suite + "/") for s in suites)
    debian_key = not signed or "/usr/share/keyrings/debian-archive" in signed
    return uris and suites and family and debian_key


selected = [e for e in entries if ours(e)]
if mode == "uri":
    for uris, suites, _, _ in selected:
        if suite in suites:
            print(uris[0])
            sys.exit(0)
    sys.exit("no 'deb' entry for suite %s in the host's apt sources" % suite)
elif mode == "sources":
    if not selected:
        sys.exit("no 'deb' entries for %s in the host's apt sources" % suite)
    for uris, suites, comps, signed in selected:
        print("Types: deb")
        print("URIs: " + " ".join(uris))
        print("Suites: " + " ".join(suites))
        print("Components: " + " ".join(comps))
        print("Signed-By: " + (signed or "/usr/share/keyrings/debian-archive-keyring.gpg"))
        print()
elif mode == "hosts":
    names = {urlsplit(u).hostname for e in selected for u in e[0]} - {None}
    if os.path.isfile("/etc/hosts"):
        for line in open("/etc/hosts", encoding="utf-8"):
            words = line.split("#", 1)[0].split()
            if len(words) >= 2 and names & set(words[1:]):
                print(" ".join(words))
elif mode == "conf":
    keep = re.compile(r'^Acquire::(Check-Valid-Until|Check-Date|(https?|ftp)::Proxy(::[^ ]+)?) ', re.I)
    for line in conf_dump.splitlines():
        if keep.match(line):
            print(line)
else:
    sys.exit("unknown mode " + mode)
PY
}

# till_write_identity ROOT HOSTNAME: hostname, /etc/hosts (minbase has none; NUT's upsc needs
# localhost) with the host's pinned mirror names, and a resolver that works behind slirp.
till_write_identity() {
  local root=$1 hostname=$2
  rm -f "$root/etc/hostname" "$root/etc/hosts" "$root/etc/resolv.conf"
  printf '%s\n' "$hostname" >"$root/etc/hostname"
  {
    printf '127.0.0.1\tlocalhost\n'
    printf '127.0.1.1\t%s\n' "$hostname"
    printf '::1\tlocalhost ip6-localhost ip6-loopback\n'
    printf 'ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n'
    till_host_apt hosts
  } >"$root/etc/hosts"
  printf 'nameserver %s\n' "$TILL_SLIRP_DNS" >"$root/etc/resolv.conf"
}

# till_cgroup_dirs ID: the per-till cgroup in every hierarchy that exists on this host.
till_cgroup_dirs() {
  local h
  for h in "${TILL_CGROUP_HIERARCHIES[@]}"; do
    if [[ -d $h ]]; then
      printf '%s/%s/%s\n' "$h" "$TILL_CGROUP_PARENT" "$1"
    fi
  done
}

# till_launcher INST MERGED NAME NETNS [BINDS_RO [BINDS]]: runs in its own session (setsid) as the parent of systemd-nspawn:
# moves itself into the per-till cgroups, starts nspawn, records its pid and, when it ends, its exit code.
till_launcher() {
  local inst=$1 merged=$2 name=$3 netns=$4 binds_ro=${5:-} binds=${6:-} dir rc pair
  local extra=()
  # BINDS_RO / BINDS: "SRC:DST ..." host folders mounted read-only (--bind-ro) / read-write (--bind) inside.
  for pair in $binds_ro; do
    extra+=("--bind-ro=$pair")
  done
  for pair in $binds; do
    extra+=("--bind=$pair")
  done
  while read -r dir; do
    mkdir -p "$dir"
    printf '%s\n' "$$" >"$dir/cgroup.procs"
  done < <(till_cgroup_dirs "$netns")
  printf '%s\n' "$$" >"$inst/launcher.pid"
  # -M <id>: the machine name keys host-side state (/run/systemd/nspawn/propagate/<id>), so it carries
  # the checkout hash; the hostname inside stays NAME.
  # --register=no --keep-unit: there is no systemd/machined on the host (PID 1 is not systemd).
  # --console=read-only: the boot messages land in console.log (passive would drop them).
  # --resolv-conf=off: till-up wrote a resolv.conf pointing at slirp's DNS.
  # --link-journal=no: the container's journal stays inside the overlay.
  # --capability=CAP_NET_ADMIN: nftables rules inside the till's own network namespace.
  systemd-nspawn -D "$merged" -M "$netns" --hostname="$name" --register=no --keep-unit -b --console=read-only \
    --network-namespace-path="/run/netns/$netns" --resolv-conf=off --link-journal=no \
    --capability=CAP_NET_ADMIN "${extra[@]}" &
  printf '%s\n' "$!" >"$inst/nspawn.pid"
  rc=0
  wait "$!" || rc=$?
  printf '%s\n' "$rc" >"$inst/nspawn.rc"
  printf '[till-harness] systemd-nspawn exited with %s at %s\n' "$rc" "$(date -Is)"
}

# till_wait_gone PID NAME SECONDS: wait for a process to end; 1 when it is still there.
till_wait_gone() {
  local pid=$1 want=$2 deadline=$((SECONDS + $3))
  while till_pid_is "$pid" "$want"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# till_teardown NAME: stop and remove everything a till owns; fine when it is already (partly) gone.
# The caller holds the per-name lock.
till_teardown() {
  local name=$1 id inst merged nspawn launcher init slirp pid dir
  local timeout=${TILL_STOP_TIMEOUT:-30}
  id=$(till_id "$name")
  inst=$(till_inst_dir "$name")
  merged=$inst/merged

  nspawn=$(till_read_pid "$inst/nspawn.pid" || true)
  till_pid_is "$nspawn" systemd-nspawn || nspawn=$(till_find_procs systemd-nspawn "$merged" | head -n1)
  launcher=$(till_read_pid "$inst/launcher.pid" || true)

  if [[ -n $nspawn ]] && till_pid_is "$nspawn" systemd-nspawn; then
    init=$(till_find_init "$nspawn" || true)
    if [[ -n $init ]]; then
      # A clean poweroff first, so units run their ExecStop (drain, sync) as on a real till.
      timeout 10 nsenter -t "$init" -a -r -w env -i PATH="$TILL_INNER_PATH" systemctl poweroff --no-block \
        >/dev/null 2>&1 || kill -s RTMIN+4 "$init" 2>/dev/null || true
    else
      kill -s TERM "$nspawn" 2>/dev/null || true
    fi
    if ! till_wait_gone "$nspawn" systemd-nspawn "$timeout"; then
      till_log "$name: no clean poweroff within ${timeout}s, killing the container"
      [[ -n $init ]] && { kill -s KILL "$init" 2>/dev/null || true; }
      kill -s KILL "$nspawn" 2>/dev/null || true
      till_wait_gone "$nspawn" systemd-nspawn 5 || true
    fi
  fi

  # The launcher records nspawn's exit code, then ends.
  if [[ -n $launcher ]] && ! till_pid_is "${nspawn:-x}" systemd-nspawn; then
    till_wait_gone "$launcher" bash 5 || true
  fi
  # Anything still in the till's cgroups (a killed nspawn leaves its payload behind).
  while read -r dir; do
    [[ -d $dir ]] || continue
    while read -r pid; do
      [[ -n $pid ]] && { kill -s KILL "$pid" 2>/dev/null || true; }
    done < <(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null)
  done < <(till_cgroup_dirs "$id")

  slirp=$(till_read_pid "$inst/slirp.pid" || true)
  till_pid_is "$slirp" slirp4netns || slirp=""
  for pid in $slirp $(till_find_procs slirp4netns "/run/netns/$id"); do
    kill -s TERM "$pid" 2>/dev/null || true
    till_wait_gone "$pid" slirp4netns 5 || kill -s KILL "$pid" 2>/dev/null || true
  done

  if [[ -e /run/netns/$id ]]; then
    ip netns delete "$id" 2>/dev/null || till_log "$name: could not delete netns $id"
  fi

  # nspawn leaves its propagation folder behind when /run is not a tmpfs.
  if [[ -d /run/systemd/nspawn/propagate/$id ]] && ! till_pid_is "$nspawn" systemd-nspawn; then
    rm -rf --one-file-system "/run/systemd/nspawn/propagate/$id"
  fi

  if mountpoint -q "$merged" 2>/dev/null; then
    # A killed nspawn leaves its image lock (named after the tree's device and inode) behind.
    rm -f "/run/systemd/nspawn/locks/inode-$(stat -c '%d:%i' "$merged")"
    umount "$merged" 2>/dev/null || umount -l "$merged" || till_die "$name: cannot unmount $merged"
  fi

  # Empty cgroups, deepest first (nspawn created payload/ and supervisor/ below ours).
  while read -r dir; do
    if [[ -d $dir ]]; then
      find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
    fi
    rmdir "${dir%/*}" 2>/dev/null || true
  done < <(till_cgroup_dirs "$id")

  if [[ -d $inst ]]; then
    mountpoint -q "$merged" 2>/dev/null && till_die "$name: $merged is still mounted"
    rm -rf --one-file-system "$inst"
  fi
}

# till_lock_name NAME: serialise up/down of one till name (fd 8; never inherited by the till itself).
till_lock_name() {
  mkdir -p "$TILL_INSTANCES"
  exec 8>"$TILL_INSTANCES/.$1.lock"
  flock 8
}
