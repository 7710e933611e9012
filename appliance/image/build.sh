#!/usr/bin/env bash
# build.sh — builds the till's bootable, reproducible Debian 12 disk image (GPT, UEFI, systemd-boot) from
# the same Ansible roles that provision a till over SSH.
#
#   debootstrap (cached by package list) -> copy -> ansible-playbook over the chroot connection
#   (-e till_image_build=true) -> first-boot unit, fstab, clean-up, clamp mtimes -> ESP (FAT32 + mtools),
#   root (mkfs.ext4 -d), KKTCONF (FAT) as partition files -> sfdisk on the image file -> dd into place.
#
# No loop devices and no mounts of the image: everything is built from files. The only mounts are those
# debootstrap makes, proc and a tmpfs /run in the tree for the Ansible run, and a tmpfs to stage the tree
# for mkfs — each inside a private mount namespace that vanishes with its process. Needs root.
# Documentation (Russian): docs/appliance-image.md.
#
# Usage: appliance/image/build.sh [--force] [--playbook PATH] [--vars FILE]... [--out DIR]
#   --force       rebuild even when the build inputs did not change (the debootstrap cache is kept)
#   --playbook    another playbook than ansible/playbooks/till.yml (e.g. a stand-in while developing)
#   --vars        a YAML file of variables for the roles (ansible-playbook -e @FILE), e.g. a store's admins
#                 and firewall sources; repeatable. Without it the roles' defaults apply.
#   --out         output folder (default build/image in the repository; git-ignored)
# Environment: SOURCE_DATE_EPOCH (default: commit time of HEAD), KKT_IMAGE_MIRROR (default: apt's own
# bookworm source on this host), KKT_IMAGE_ROOT_MIB (root partition size, default 2048),
# ANSIBLE_PLAYBOOK (default: .venv/bin/ansible-playbook, else from PATH).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=$REPO/build/image
PLAYBOOK=$REPO/ansible/playbooks/till.yml
FORCE=0
VARS=()
while (($#)); do
  case $1 in
    --force) FORCE=1 ;;
    --playbook) PLAYBOOK=$(realpath "$2"); shift ;;
    --vars) VARS+=("$(realpath "$2")"); shift ;;
    --out) OUT=$(realpath -m "$2"); shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# --- fixed identifiers: the same in every image, so two builds of one commit are bit-identical --------
# GPT disk GUID and partition UUIDs (the loader entry and fstab refer to the PARTUUIDs).
DISK_GUID=8d5d2a4e-3c1b-4f1e-9b7a-6f7074650000
ESP_PARTUUID=8d5d2a4e-3c1b-4f1e-9b7a-6f7074650001
ROOT_PARTUUID=8d5d2a4e-3c1b-4f1e-9b7a-6f7074650002
CONF_PARTUUID=8d5d2a4e-3c1b-4f1e-9b7a-6f7074650003
# ext4 file system UUID and directory hash seed of the root partition.
ROOT_FS_UUID=8d5d2a4e-3c1b-4f1e-9b7a-6f7074650010
ROOT_HASH_SEED=8d5d2a4e-3c1b-4f1e-9b7a-6f7074650011
# FAT volume ids (serial numbers) of the ESP and of the config partition.
ESP_VOLID=4B4B5401
CONF_VOLID=4B4B5403
# GPT partition types: EFI System; Linux root (x86-64) of the Discoverable Partitions Specification;
# Microsoft basic data for KKTCONF so that any laptop (Linux, Windows, macOS) mounts it for editing.
TYPE_ESP=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
TYPE_ROOT=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709
TYPE_DATA=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7
# Sizes in MiB. The ESP holds the boot loader, one kernel and its initrd (~50 MiB) with room for a second.
ESP_MIB=256
ROOT_MIB=${KKT_IMAGE_ROOT_MIB:-2048}
CONF_MIB=16
CONF_LABEL=KKTCONF
SUITE=bookworm

log() { printf '[build.sh %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
TIMINGS=()
step_done() { TIMINGS+=("$(printf '%-22s %7ss' "$1" "$(elapsed "$2")")"); }

(($(id -u) == 0)) || die "needs root (debootstrap, chroot, file ownership in the tree)"
for tool in debootstrap chroot unshare sfdisk mkfs.fat mcopy mmd mkfs.ext4 debugfs dumpe2fs python3 git; do
  command -v "$tool" >/dev/null || die "missing tool: $tool (Debian packages: debootstrap fdisk dosfstools mtools e2fsprogs)"
done
if [[ -z ${ANSIBLE_PLAYBOOK:-} ]]; then
  if [[ -x $REPO/.venv/bin/ansible-playbook ]]; then ANSIBLE_PLAYBOOK=$REPO/.venv/bin/ansible-playbook; else
    ANSIBLE_PLAYBOOK=$(command -v ansible-playbook) ||
      die "ansible-playbook not found: /work/main/.venv/bin/pip install -r tests/appliance/requirements.txt"
  fi
fi
[[ -f $PLAYBOOK ]] || die "playbook $PLAYBOOK does not exist (the till roles provide ansible/playbooks/till.yml)"

# --- inputs: epoch, version, mirror, package list --------------------------------------------------------
T_TOTAL=$(now)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct)}
export TZ=UTC LC_ALL=C.UTF-8
umask 022
PKG_VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO/appliance/pyproject.toml")
VERSION=$PKG_VERSION-g$(git -C "$REPO" rev-parse --short=12 HEAD)
MIRROR=${KKT_IMAGE_MIRROR:-$(python3 "$HERE/apt_mirror.py" "$SUITE")} || die "no $SUITE mirror in apt's sources"
PACKAGES=$(sed 's/#.*//' "$HERE/packages.txt" | awk NF | sort -u | paste -sd, -)
BASE_KEY=$(printf '%s\n' "$SUITE" minbase "$MIRROR" "$PACKAGES" | sha256sum | cut -c1-16)

# Everything that can change the image: the repository's files (tracked and untracked, not ignored) apart
# from tests and the change journal, the playbook used, the epoch, the base tree key and the sizes.
inputs_hash() {
  {
    echo "$SOURCE_DATE_EPOCH $BASE_KEY $ROOT_MIB $ESP_MIB $CONF_MIB ${PLAYBOOK#"$REPO"/}"
    git -C "$REPO" ls-files -z -c -o --exclude-standard -- . ':!tests' ':!claude_history' |
      sort -z | (cd "$REPO" && { xargs -0 -r sha256sum 2>/dev/null || true; })
    # Files from outside the repository count by content only (a test's temporary vars file moves).
    [[ $PLAYBOOK == "$REPO"/* ]] || sha256sum <"$PLAYBOOK"
    for f in "${VARS[@]}"; do sha256sum <"$f"; done
  } | sha256sum | cut -c1-32
}
INPUTS=$(inputs_hash)
IMAGE=$OUT/opticserp-till-$VERSION.img
mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock 9 # one build at a time per output folder
if ((!FORCE)) && [[ -f $IMAGE && -f $IMAGE.sha256 && "$(cat "$IMAGE.inputs" 2>/dev/null)" == "$INPUTS" ]]; then
  log "up to date: $IMAGE (inputs $INPUTS); --force rebuilds"
  echo "$IMAGE"
  exit 0
fi
log "version $VERSION, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH ($(date -u -d "@$SOURCE_DATE_EPOCH" +%F)), mirror $MIRROR, inputs $INPUTS"

# Runs a command in a private mount namespace (mounts disappear with it), or directly where unshare is
# not permitted.
in_private_ns() {
  if unshare --mount --propagation private true 2>/dev/null; then
    unshare --mount --propagation private -- "$@"
  else
    "$@"
  fi
}

# --- 1. debootstrap, cached by package list ------------------------------------------------------------------
T=$(now)
CACHE=$OUT/cache/debootstrap-$BASE_KEY
if [[ ! -f $CACHE.done ]]; then
  log "debootstrap $SUITE (minbase + ${PACKAGES//,/ }) -> $CACHE"
  rm -rf "$CACHE" "$CACHE.tmp"
  mkdir -p "$OUT/cache"
  in_private_ns debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$CACHE.tmp" "$MIRROR" \
    >"$OUT/cache/debootstrap-$BASE_KEY.log" 2>&1 ||
    die "debootstrap failed; see $OUT/cache/debootstrap-$BASE_KEY.log"
  mv "$CACHE.tmp" "$CACHE"
  touch "$CACHE.done"
else
  log "debootstrap tree from cache: $CACHE"
fi
step_done debootstrap "$T"

# --- 2. working copy of the tree -----------------------------------------------------------------------------
T=$(now)
WORK=$OUT/work
TREE=$WORK/rootfs
rm -rf "$WORK"
mkdir -p "$WORK"
cp -a "$CACHE" "$TREE"
step_done copy-tree "$T"

# --- 3. Ansible over the chroot connection ---------------------------------------------------------------------
T=$(now)
# Package maintainer scripts must never start daemons on the build host: invoke-rc.d asks policy-rc.d.
cat >"$TREE/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh
# Image build in progress (appliance/image/build.sh): no service may start inside the chroot.
exit 101
EOF
chmod 0755 "$TREE/usr/sbin/policy-rc.d"
# Borrowed from the build host for the Ansible run only: name resolution and the CA bundle this host
# trusts (a TLS-inspecting proxy's CA included), so apt and pip reach their registries from the chroot.
# Each goes back afterwards unless a role replaced it meanwhile.
BORROWED=(etc/resolv.conf etc/ssl/certs/ca-certificates.crt)
mkdir -p "$WORK/saved"
for f in "${BORROWED[@]}"; do
  [[ -L $TREE/$f ]] && continue
  if [[ -f $TREE/$f ]]; then cp -a "$TREE/$f" "$WORK/saved/${f//\//_}"; fi
  install -D -m 0644 "/$f" "$TREE/$f"
done
cat >"$WORK/inventory.ini" <<EOF
# One-host inventory generated by appliance/image/build.sh: the image tree, reached through chroot.
[tills]
till-image ansible_connection=community.general.chroot ansible_host=$TREE ansible_python_interpreter=/usr/bin/python3
EOF
ANSIBLE_DIR=$REPO/ansible
[[ $PLAYBOOK == "$ANSIBLE_DIR"/* ]] || ANSIBLE_DIR=$(dirname "$PLAYBOOK")
EXTRA=(-e till_image_build=true)
for f in "${VARS[@]}"; do EXTRA+=(-e "@$f"); done
# The adapter and its pinned dependencies as wheels (the till_adapter role installs them offline).
TW=$(now)
if [[ -x $REPO/appliance/build-wheelhouse.sh ]]; then
  log "wheelhouse -> $OUT/wheelhouse"
  "$REPO/appliance/build-wheelhouse.sh" "$OUT/wheelhouse" >"$WORK/wheelhouse.log" 2>&1 ||
    die "appliance/build-wheelhouse.sh failed; see $WORK/wheelhouse.log"
  EXTRA+=(-e "till_adapter_wheelhouse=$OUT/wheelhouse")
fi
step_done wheelhouse "$TW"
T=$(now)
log "ansible-playbook $PLAYBOOK (-e till_image_build=true) -> $WORK/ansible.log"
# proc is mounted in the tree (python, apt and systemctl in the chroot read it), and a fresh tmpfs on /run
# as on a booted system (sshd -t, which the roles use to validate sshd_config, needs /run/sshd); nothing
# written there reaches the image. sys and dev are not mounted, so nothing in the chroot can reach the
# host's devices (udevadm trigger and the like).
# shellcheck disable=SC2016  # expanded by the inner shell
if ! in_private_ns env TREE="$TREE" ANSIBLE_DIR="$ANSIBLE_DIR" \
  ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCAL_TEMP="$WORK/ansible-tmp" \
  bash -c 'mount -t proc proc "$TREE/proc" 2>/dev/null || echo "proc not mounted in the tree" >&2
           mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$TREE/run" 2>/dev/null ||
             echo "no tmpfs on /run in the tree" >&2
           mkdir -p "$TREE/run/sshd" "$TREE/run/lock"
           cd "$ANSIBLE_DIR" && exec "$@"' _ \
  "$ANSIBLE_PLAYBOOK" -i "$WORK/inventory.ini" "${EXTRA[@]}" "$PLAYBOOK" \
  >"$WORK/ansible.log" 2>&1; then
  tail -n 40 "$WORK/ansible.log" >&2
  die "ansible-playbook failed; full log: $WORK/ansible.log"
fi
grep -E '^till-image +:' "$WORK/ansible.log" >&2 || true
step_done ansible "$T"

# --- 4. image-only additions and clean-up ----------------------------------------------------------------------
T=$(now)
rm -f "$TREE/usr/sbin/policy-rc.d"
for f in "${BORROWED[@]}"; do
  if [[ -f $TREE/$f && ! -L $TREE/$f ]] && cmp -s "/$f" "$TREE/$f"; then
    rm -f "$TREE/$f"
    # resolv.conf is not put back: the one debootstrap copied is the build host's.
    if [[ $f != etc/resolv.conf && -f $WORK/saved/${f//\//_} ]]; then cp -a "$WORK/saved/${f//\//_}" "$TREE/$f"; fi
  fi
done
# First boot: identity from the kernel command line or the KKTCONF partition.
install -D -m 0755 "$HERE/kkt-firstboot" "$TREE/usr/local/sbin/kkt-firstboot"
install -D -m 0644 "$REPO/systemd/kkt-firstboot.service" "$TREE/usr/local/lib/systemd/system/kkt-firstboot.service"
# Files only the image needs (ssh host keys regenerated at boot, ...), installed root-owned.
(cd "$HERE/overlay" && find . -type f -print0) | while IFS= read -r -d '' f; do
  install -D -m 0644 "$HERE/overlay/$f" "$TREE/$f"
done
chroot "$TREE" systemctl enable kkt-firstboot.service >/dev/null 2>&1 ||
  die "systemctl enable kkt-firstboot.service failed in the tree"
mkdir -p "$TREE/boot/efi"
cat >"$TREE/etc/fstab" <<EOF
# /etc/fstab — written by appliance/image/build.sh. Partitions by their fixed GPT PARTUUIDs; KKTCONF
# (PARTUUID=$CONF_PARTUUID, label $CONF_LABEL) is mounted only by kkt-firstboot, read-only, privately.
PARTUUID=$ROOT_PARTUUID  /          ext4  defaults,errors=remount-ro  0  1
PARTUUID=$ESP_PARTUUID  /boot/efi  vfat  ro,umask=0077,nofail  0  0
EOF
# /etc/hosts: minbase has none and localhost must resolve (NUT's upsc, the adapter's loopback clients).
# kkt-firstboot adds the 127.0.1.1 line with the till's hostname.
if [[ ! -s $TREE/etc/hosts ]]; then
  printf '%s\n' "127.0.0.1	localhost" "::1		localhost ip6-localhost ip6-loopback" \
    "ff02::1		ip6-allnodes" "ff02::2		ip6-allrouters" >"$TREE/etc/hosts"
fi
# Identity and secrets of this build host or of this build must not ship: machine-id (an empty file: systemd
# generates one at boot and systemd-machine-id-commit stores it), ssh host keys (the ssh.service drop-in
# regenerates them), the builder's hostname (debootstrap copies it; kkt-firstboot writes the till's).
: >"$TREE/etc/machine-id"
[[ -L $TREE/var/lib/dbus/machine-id ]] || rm -f "$TREE/var/lib/dbus/machine-id"
rm -f "$TREE"/etc/ssh/ssh_host_*_key "$TREE"/etc/ssh/ssh_host_*_key.pub "$TREE/etc/hostname"
rm -f "$TREE/var/lib/systemd/random-seed" "$TREE/var/lib/systemd/credential.secret"
# Caches, package lists, logs and temporary files (debconf's database under /var/cache stays: apt needs it).
find "$TREE/var/lib/apt/lists" -mindepth 1 -delete
mkdir -p "$TREE/var/lib/apt/lists/partial"
find "$TREE/var/cache" -mindepth 1 -maxdepth 1 ! -name debconf -exec rm -rf {} +
rm -f "$TREE"/var/cache/debconf/*-old "$TREE"/var/lib/dpkg/*-old
find "$TREE/var/log" -type f -delete
find "$TREE/tmp" "$TREE/var/tmp" "$TREE/root" "$TREE/run" -mindepth 1 -delete # /run: a tmpfs at boot
cp -a "$CACHE/root/." "$TREE/root/" # root's skeleton dot files from the base tree
# Users created by the roles carry "days since 1970" of the build day in /etc/shadow: clamp to the epoch.
DAY=$((SOURCE_DATE_EPOCH / 86400))
for f in shadow shadow-; do
  [[ -f $TREE/etc/$f ]] || continue
  awk -F: -v OFS=: -v d="$DAY" '$3 ~ /^[0-9]+$/ && $3 > d { $3 = d } 1' "$TREE/etc/$f" >"$WORK/$f"
  cat "$WORK/$f" >"$TREE/etc/$f"
done
step_done finalize-tree "$T"

# Byte code: Python files compiled during the build get hash-based .pyc (independent of mtimes), written
# after the mtimes are clamped; everything from the base tree keeps what Debian compiled.
T=$(now)
find "$TREE" -xdev -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0 -r touch -h -d "@$SOURCE_DATE_EPOCH"
if [[ -d $TREE/opt ]]; then
  chroot "$TREE" python3 -m compileall -q -f -j 1 --invalidation-mode checked-hash /opt >/dev/null || true
fi
find "$TREE" -xdev -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0 -r touch -h -d "@$SOURCE_DATE_EPOCH"
step_done clamp-and-compile "$T"

# --- 5. partition files -------------------------------------------------------------------------------------------
T=$(now)
PARTS=$WORK/parts
mkdir -p "$PARTS"
export MTOOLS_SKIP_CHECK=1 # mtools honours SOURCE_DATE_EPOCH for the times it writes
KVER=$(find "$TREE/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
[[ -n $KVER ]] || die "no kernel in $TREE/boot"
[[ -f $TREE/boot/initrd.img-$KVER ]] || die "no initrd for kernel $KVER in the tree"
CMDLINE="root=PARTUUID=$ROOT_PARTUUID ro rootfstype=ext4 console=tty0 console=ttyS0,115200n8"
mkdir -p "$WORK/esp"
cat >"$WORK/esp/loader.conf" <<EOF
# systemd-boot settings of the OpticsERP till (appliance/image/build.sh).
# Boot the till's entry at once (hold a key while the firmware hands over to see the menu).
default opticserp.conf
timeout 0
# No editing of the kernel command line at the till's keyboard (init=/bin/sh would bypass everything).
editor no
EOF
cat >"$WORK/esp/opticserp.conf" <<EOF
title   OpticsERP till $VERSION
version $KVER
linux   /opticserp/$KVER/linux
initrd  /opticserp/$KVER/initrd
options $CMDLINE
EOF
touch -d "@$SOURCE_DATE_EPOCH" "$WORK"/esp/*
SDBOOT=$TREE/usr/lib/systemd/boot/efi/systemd-bootx64.efi
[[ -f $SDBOOT ]] || die "systemd-boot EFI binary missing in the tree ($SDBOOT): is systemd-boot-efi installed?"
ESP=$PARTS/esp.fat
rm -f "$ESP"
mkfs.fat --invariant -i "$ESP_VOLID" -F 32 -n EFI -C "$ESP" $((ESP_MIB * 1024)) >/dev/null
mmd -i "$ESP" ::/EFI ::/EFI/BOOT ::/EFI/systemd ::/loader ::/loader/entries ::/opticserp "::/opticserp/$KVER"
mcopy -m -i "$ESP" "$SDBOOT" ::/EFI/BOOT/BOOTX64.EFI
mcopy -m -i "$ESP" "$SDBOOT" ::/EFI/systemd/systemd-bootx64.efi
mcopy -m -i "$ESP" "$WORK/esp/loader.conf" ::/loader/loader.conf
mcopy -m -i "$ESP" "$WORK/esp/opticserp.conf" ::/loader/entries/opticserp.conf
mcopy -m -i "$ESP" "$TREE/boot/vmlinuz-$KVER" "::/opticserp/$KVER/linux"
mcopy -m -i "$ESP" "$TREE/boot/initrd.img-$KVER" "::/opticserp/$KVER/initrd"

CONF=$PARTS/kktconf.fat
rm -f "$CONF"
mkfs.fat --invariant -i "$CONF_VOLID" -n "$CONF_LABEL" -C "$CONF" $((CONF_MIB * 1024)) >/dev/null
mmd -i "$CONF" ::/config.d
mcopy -m -i "$CONF" "$HERE/identity.toml.example" ::/identity.toml.example

ROOT=$PARTS/root.ext4
rm -f "$ROOT"
truncate -s "${ROOT_MIB}M" "$ROOT"
# mke2fs 1.47.0 -d adds entries (and allocates inodes) in readdir order, which on the build host's ext4
# follows the hash seed of that file system: another machine would get another order. So the tree is staged
# on a tmpfs in sorted order first (tmpfs lists entries in creation order); where no tmpfs can be mounted,
# the tree is used directly (identical files, possibly another inode order).
# shellcheck disable=SC2016  # expanded by the inner shell
in_private_ns env TREE="$TREE" STAGE="$WORK/stage" ROOT="$ROOT" ROOT_MIB="$ROOT_MIB" \
  ROOT_FS_UUID="$ROOT_FS_UUID" ROOT_HASH_SEED="$ROOT_HASH_SEED" E2FSPROGS_FAKE_TIME="$SOURCE_DATE_EPOCH" \
  bash -c 'set -euo pipefail
    src=$TREE
    mkdir -p "$STAGE"
    if mount -t tmpfs -o "size=${ROOT_MIB}m,mode=0755" tmpfs "$STAGE" 2>/dev/null; then
      tar -C "$TREE" --sort=name --numeric-owner --xattrs --xattrs-include="*" --acls -cf - . |
        tar -C "$STAGE" --numeric-owner --xattrs --xattrs-include="*" --acls -xpf -
      src=$STAGE
    else
      echo "build.sh: no tmpfs for staging; inode order follows this host" >&2
    fi
    mkfs.ext4 -q -F -L till-root -U "$ROOT_FS_UUID" -E "hash_seed=$ROOT_HASH_SEED,root_owner=0:0" \
      -d "$src" "$ROOT"' ||
  die "mkfs.ext4 -d failed (root partition of ${ROOT_MIB} MiB too small? KKT_IMAGE_ROOT_MIB)"
rmdir "$WORK/stage" 2>/dev/null || true
python3 "$HERE/ext4_normalize.py" "$ROOT" "$SOURCE_DATE_EPOCH" >/dev/null
step_done partitions "$T"

# --- 6. GPT disk image ---------------------------------------------------------------------------------------
T=$(now)
MIB_SECTORS=2048 # 512-byte sectors
ESP_START=$MIB_SECTORS
ROOT_START=$((ESP_START + ESP_MIB * MIB_SECTORS))
CONF_START=$((ROOT_START + ROOT_MIB * MIB_SECTORS))
END=$((CONF_START + CONF_MIB * MIB_SECTORS))
TMP_IMAGE=$IMAGE.tmp
rm -f "$TMP_IMAGE"
truncate -s $(((END + MIB_SECTORS) * 512)) "$TMP_IMAGE" # + 1 MiB for the backup GPT
sfdisk --quiet --no-reread --no-tell-kernel "$TMP_IMAGE" <<EOF
label: gpt
label-id: $DISK_GUID
unit: sectors
first-lba: $MIB_SECTORS
start=$ESP_START, size=$((ESP_MIB * MIB_SECTORS)), type=$TYPE_ESP, uuid=$ESP_PARTUUID, name="esp"
start=$ROOT_START, size=$((ROOT_MIB * MIB_SECTORS)), type=$TYPE_ROOT, uuid=$ROOT_PARTUUID, name="root"
start=$CONF_START, size=$((CONF_MIB * MIB_SECTORS)), type=$TYPE_DATA, uuid=$CONF_PARTUUID, name="kktconf"
EOF
dd if="$ESP" of="$TMP_IMAGE" bs=1M seek=$((ESP_START / MIB_SECTORS)) conv=notrunc,sparse status=none
dd if="$ROOT" of="$TMP_IMAGE" bs=1M seek=$((ROOT_START / MIB_SECTORS)) conv=notrunc,sparse status=none
dd if="$CONF" of="$TMP_IMAGE" bs=1M seek=$((CONF_START / MIB_SECTORS)) conv=notrunc,sparse status=none
rm -f "$OUT"/opticserp-till-*.img "$OUT"/opticserp-till-*.img.sha256 "$OUT"/opticserp-till-*.img.inputs
mv "$TMP_IMAGE" "$IMAGE"
(cd "$OUT" && sha256sum "$(basename "$IMAGE")" >"$IMAGE.sha256")
echo "$INPUTS" >"$IMAGE.inputs"
# Partition layout for tools and tests (offsets in bytes): mtools -i IMAGE@@OFFSET, qemu, dd.
cat >"$OUT/opticserp-till.env" <<EOF
# Written by appliance/image/build.sh for the last image built here.
IMAGE=$IMAGE
VERSION=$VERSION
SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH
KERNEL_VERSION=$KVER
ESP_OFFSET=$((ESP_START * 512))
ROOT_OFFSET=$((ROOT_START * 512))
ROOT_SIZE=$((ROOT_MIB * 1024 * 1024))
CONF_OFFSET=$((CONF_START * 512))
ROOT_PARTUUID=$ROOT_PARTUUID
CMDLINE="$CMDLINE"
EOF
step_done gpt-image "$T"

# --- report ---------------------------------------------------------------------------------------------------
step_done total "$T_TOTAL"
human() { numfmt --to=iec-i --suffix=B "$1"; }
log "image $IMAGE"
log "  sha256 $(cut -d' ' -f1 "$IMAGE.sha256")"
log "  size $(human "$(stat -c %s "$IMAGE")") (allocated $(human $(($(stat -c %b "$IMAGE") * 512)))); tree $(du -sh --apparent-size "$TREE" | cut -f1); initrd $(human "$(stat -c %s "$TREE/boot/initrd.img-$KVER")")"
log "  root partition sha256 $(sha256sum "$ROOT" | cut -c1-64)"
for line in "${TIMINGS[@]}"; do log "  time $line"; done
echo "$IMAGE"
