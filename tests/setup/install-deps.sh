#!/usr/bin/env bash
# Installs the Debian packages the test suites need; a no-op when they are already present.
set -euo pipefail
# iproute2 + nftables: NetLab (network namespaces, veth pairs, packet loss) for tests/integration/test_netlab.py;
# prometheus + prometheus-alertmanager: promtool / amtool checks of monitoring/ and the monitoring drill
# (tests/poc/test_monitoring_drill.py: a real Prometheus and Alertmanager).
packages=(sqlite3 iproute2 nftables prometheus prometheus-alertmanager)
# The central server's exporters with the repository's configuration (tests/integration/test_central_exporters.py):
# PostgreSQL 15 for a throwaway cluster with pg_stat_statements, openssl for a test certificate.
packages+=(postgresql-15 prometheus-postgres-exporter prometheus-blackbox-exporter openssl)
# The shellcheck package lints the POSIX shell scripts the till ships (kkt-ups-shutdown: tests/integration/test_drain.py);
# systemd brings systemd-analyze and the unit set that tests/unit/test_systemd_units.py verifies against.
packages+=(shellcheck systemd)
# nginx: the till's kkt-proxy in front of gunicorn, started from the role's own configuration by
# tests/integration/test_slow_clients.py and the slow-client benchmark (tests/load).
packages+=(nginx)
# Booted-till harness (tests/appliance/scripts): debootstrap + debian-archive-keyring build the golden
# Debian 12 rootfs, systemd-container boots it (systemd-nspawn; brings journalctl for reading a till's
# journal), slirp4netns gives it a private network with loopback-only port forwards, openssh-client
# reaches its sshd, util-linux provides nsenter/setsid/flock/mountpoint.
packages+=(debootstrap debian-archive-keyring systemd-container slirp4netns openssh-client util-linux)
# Till disk image (appliance/image/build.sh, tests/appliance/test_image.py): GPT with sfdisk (fdisk), the
# ESP and KKTCONF partitions without loop devices (dosfstools + mtools), ext4 from a tree (e2fsprogs),
# and a real UEFI boot under software emulation (qemu-system-x86 + ovmf).
packages+=(fdisk dosfstools mtools e2fsprogs qemu-system-x86 ovmf)
# The booted central server (tests/appliance/test_booted_central.py): rsync carries our addons to it
# (central_odoo's synchronize), and ansible/scripts/build-odoo-wheelhouse.sh builds Odoo's wheels with Debian's
# Python 3.11 (python3-pip, python3-venv) and the headers of the sdists (psycopg2, python-ldap).
packages+=(rsync python3-pip python3-venv python3-dev build-essential libpq-dev libldap2-dev libsasl2-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
