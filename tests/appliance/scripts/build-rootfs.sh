#!/usr/bin/env bash
# build-rootfs.sh — builds, once and cached, the golden Debian 12 rootfs every throwaway till boots from
# (build/appliance/rootfs-golden/, git-ignored): a minimal Debian 12 as field engineers install it; the
# Ansible roles install everything else through apt. Also creates the harness SSH key (build/appliance/ssh/).
#
# Usage: tests/appliance/scripts/build-rootfs.sh [--force]
# The cache key is a hash of this script, the till-lib.sh functions that shape the tree, the package list,
# the SSH public key and the host's apt mirror configuration: changing any of them rebuilds. The tree is built beside the golden one and
# renamed into place, so an interrupted build never leaves a half golden tree.
set -euo pipefail
# shellcheck source=till-lib.sh source-path=SCRIPTDIR
. "$(dirname "$(readlink -f "$0")")/till-lib.sh"

# Debian 12 minbase plus what makes it a bootable, reachable, Ansible-manageable machine.
PACKAGES=(systemd systemd-sysv dbus python3 openssh-server iproute2 sudo procps ca-certificates libpam-systemd)

force=0
case ${1:-} in
  --force) force=1 ;;
  "") ;;
  *) till_die "usage: ${0##*/} [--force]" ;;
esac

till_require_root
command -v debootstrap >/dev/null || till_die "debootstrap missing (tests/setup/install-deps.sh installs it)"
mkdir -p "$TILL_BUILD"

# One builder at a time; till-up holds this lock shared while it mounts the golden tree.
exec 9>"$TILL_LOCK"
flock 9

# The harness key: generated once, survives rootfs rebuilds (its public half is part of the cache key).
if [[ ! -s $TILL_SSH_KEY || ! -s $TILL_SSH_KEY.pub ]]; then
  install -d -m 700 "${TILL_SSH_KEY%/*}"
  rm -f "$TILL_SSH_KEY" "$TILL_SSH_KEY.pub"
  ssh-keygen -q -t ed25519 -N '' -C "till-harness@$(hostname)" -f "$TILL_SSH_KEY"
fi

mirror=$(till_host_apt uri)
sources=$(till_host_apt sources)
apt_conf=$(till_host_apt conf)
key=$(
  {
    cat "$0" "$TILL_SSH_KEY.pub"
    # Only the parts of till-lib.sh that shape the tree (editing teardown code does not rebuild).
    declare -f till_host_apt till_write_identity
    printf '%s\n' "$TILL_SUITE" "$TILL_SLIRP_DNS" "${PACKAGES[@]}" "$mirror" "$sources" "$apt_conf"
  } | sha256sum | cut -d' ' -f1
)

if ((!force)) && [[ -d $TILL_GOLDEN && -s $TILL_GOLDEN_STAMP && $(cat "$TILL_GOLDEN_STAMP") == "$key" ]]; then
  till_log "golden rootfs up to date ($TILL_GOLDEN)"
  exit 0
fi

# Never pull the lower layer from under running tills.
if [[ -d $TILL_GOLDEN ]] && grep -qF "lowerdir=$TILL_GOLDEN," /proc/self/mountinfo; then
  till_die "the golden rootfs is out of date but tills still use it; stop them first (till-down.sh NAME)"
fi

# remove_tree DIR: unmount whatever a killed debootstrap left mounted inside DIR, then delete it.
remove_tree() {
  local dir=$1 mnt
  [[ -e $dir ]] || return 0
  while read -r mnt; do
    umount -l "$mnt" 2>/dev/null || true
  done < <(awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  rm -rf --one-file-system "$dir"
}

# Leftovers of an interrupted earlier build.
for stale in "$TILL_BUILD"/rootfs-golden.tmp.*; do
  remove_tree "$stale"
done

work=$(mktemp -d "$TILL_BUILD/rootfs-golden.tmp.XXXXXX")
trap 'remove_tree "$work"' EXIT
root=$work/root

started=$(date +%s.%N)
till_log "debootstrap $TILL_SUITE from $mirror (log: $work/debootstrap.log)"
mkdir -p "$TILL_BUILD/debootstrap-cache"
packages=$(IFS=,; printf '%s' "${PACKAGES[*]}")
if ! debootstrap --variant=minbase --components=main --include="$packages" \
  --cache-dir="$TILL_BUILD/debootstrap-cache" "$TILL_SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 30 "$work/debootstrap.log" >&2
  [[ -f $root/debootstrap/debootstrap.log ]] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
  till_die "debootstrap failed"
fi

# A fresh machine-id for every till (systemd fills an empty file at boot). D-Bus's copy, written by its
# postinst during the build, would otherwise be copied in and give every till the same id.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
ln -s /etc/machine-id "$root/var/lib/dbus/machine-id"
# Hostname, /etc/hosts and resolv.conf; till-up rewrites them with the till's own name.
till_write_identity "$root" till

# apt inside the till uses the same mirrors as the host, and only those.
rm -f "$root/etc/apt/sources.list"
printf '%s\n' "$sources" >"$root/etc/apt/sources.list.d/debian.sources"
if [[ -n $apt_conf ]]; then
  {
    printf '// Copied from the build host by tests/appliance/scripts/build-rootfs.sh: mirror access settings.\n'
    printf '%s\n' "$apt_conf"
  } >"$root/etc/apt/apt.conf.d/90till-harness-mirror"
fi

# Root logs in with the harness key only.
install -d -m 700 "$root/root/.ssh"
install -m 600 "$TILL_SSH_KEY.pub" "$root/root/.ssh/authorized_keys"
# sshd starts at boot (the package enables it; make sure, minbase has no policy to stop it).
if [[ ! -L $root/etc/systemd/system/multi-user.target.wants/ssh.service ]]; then
  mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
  ln -s /lib/systemd/system/ssh.service "$root/etc/systemd/system/multi-user.target.wants/ssh.service"
fi
[[ -s $root/etc/ssh/ssh_host_ed25519_key ]] || till_die "openssh-server left no host keys"

# The downloaded packages stay in the debootstrap cache, not in every till.
rm -f "$root"/var/cache/apt/archives/*.deb

# Swap in atomically (under the lock): the old tree leaves, the new one arrives, then the stamp.
rm -f "$TILL_GOLDEN_STAMP"
[[ -d $TILL_GOLDEN ]] && mv "$TILL_GOLDEN" "$work/old"
mv "$root" "$TILL_GOLDEN"
printf '%s\n' "$key" >"$TILL_GOLDEN_STAMP"
took=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
till_log "golden rootfs built in ${took}s ($(du -sh "$TILL_GOLDEN" | cut -f1), $TILL_GOLDEN)"
