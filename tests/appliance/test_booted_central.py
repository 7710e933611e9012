"""The central server as a booted system, rebuilt from code and from its backups (issue 19).

A Debian 12 container (systemd as PID 1 under systemd-nspawn, the till harness's golden rootfs) is converged
with ansible/playbooks/central.yml — PostgreSQL 15 + pgBackRest, Odoo 17 with our addons (the host's Odoo
tree mounted read-only, wheels from ``ansible/scripts/build-odoo-wheelhouse.sh``), nginx TLS 1.3, the
monitoring stack, the till backup collection — converged again (0 changed), verified with pytest-testinfra
(tests/appliance/central/tests, a till container ``till-bk`` serving its buffer snapshots), then put through
the disaster-recovery drill (tests/appliance/central/drill.py). Prints the closing note's figures.

Needs root and an Odoo 17 tree (``ODOO_SRC`` or /opt/odoo17): the suite runner announces its absence.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.appliance.central import drill
from tests.appliance.central.harness import BIN, REPO, SCRIPTS, Central, run

CENTRAL = REPO / "tests" / "appliance" / "central"
BUILD = REPO / "build" / "central"
WHEELHOUSE = BUILD / "odoo-wheelhouse"
TOOLS = ("debootstrap", "systemd-nspawn", "slirp4netns", "nsenter", "ssh", "openssl")
#: The till whose buffer snapshots the central server pulls (tests/appliance/central/stores: till-01).
BACKUP_TILL = ("till-bk", 22421)
#: The test inventory's admin login password of Odoo (tests/appliance/central/inventory, vault).
ADMIN_PASSWORD_VAR = "vault_central_odoo_admin_password"


def odoo_src() -> Path | None:
    path = Path(os.environ.get("ODOO_SRC") or "/opt/odoo17")
    return path if (path / "odoo-bin").is_file() else None


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces, overlayfs, systemd-nspawn)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"missing host tools {missing}: run tests/setup/install-deps.sh"
    if odoo_src() is None:
        return "no Odoo 17 tree (ODOO_SRC or /opt/odoo17): the central server runs Odoo from one"
    return None


pytestmark = pytest.mark.skipif(_unavailable() is not None, reason=str(_unavailable()))


def vault_value(key: str) -> str:
    out = run(
        [
            str(BIN / "ansible-vault"),
            "view",
            "--vault-password-file",
            str(REPO / "tests/appliance/example-vault-password.txt"),
            str(CENTRAL / "inventory/group_vars/central/vault.yml"),
        ]
    )
    for line in out.splitlines():
        if line.startswith(f"{key}:"):
            return line.split(":", 1)[1].strip().strip('"')
    raise AssertionError(f"{key} is not in the test vault")


def timed(argv: list[str], timeout: float) -> float:
    started = time.monotonic()
    run(argv, timeout=timeout)
    return time.monotonic() - started


def run_testinfra(central: Central) -> tuple[float, str]:
    ssh_config = BUILD / "ssh_config"
    ssh_config.write_text(
        "Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
        "  IdentitiesOnly yes\n",
        encoding="ascii",
    )
    started = time.monotonic()
    out = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-s",
            str(CENTRAL / "tests"),
            f"--hosts=ssh://root@127.0.0.1:{central.ssh_port}",
            f"--ssh-identity-file={REPO / 'build/appliance/ssh/id_ed25519'}",
            f"--ssh-config={ssh_config}",
        ],
        env={
            **os.environ,
            "CENTRAL_HTTPS_PORT": str(central.https_port),
            "PATH": f"{BIN}:{os.environ['PATH']}",
        },
        timeout=900,
    )
    return time.monotonic() - started, out


def changed_tasks(out: str) -> list[str]:
    """The TASK headers of an ansible-playbook output whose result says changed."""
    found, task = [], ""
    for line in out.splitlines():
        if line.startswith("TASK ["):
            task = line.rstrip("* ")
        elif line.startswith("changed:") and task:
            found.append(task)
    return found


def prepare_backup_till(central: Central) -> None:
    """The till whose snapshots the server pulls: booted, given the server's public key and real snapshots."""
    name, port = BACKUP_TILL
    run([str(SCRIPTS / "till-up.sh"), name, str(port)], timeout=300)
    pubkey = central.exec("cat", "/var/lib/till-backups/.ssh/id_ed25519.pub").strip()
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "ANSIBLE_HOST_KEY_CHECKING": "false"}
    run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            f"127.0.0.1:{port},",
            "-e",
            f"ansible_port={port} ansible_user=root",
            "-e",
            f"ansible_ssh_private_key_file={REPO / 'build/appliance/ssh/id_ed25519'}",
            "-e",
            f"central_pubkey='{pubkey}'",
            str(CENTRAL / "till-for-backups.yml"),
        ],
        env=env,
        cwd=REPO / "ansible",
        timeout=600,
    )


def test_central_server_converges_verifies_and_survives_its_loss(tmp_path):
    src = odoo_src()
    assert src is not None
    figures: dict[str, float] = {}
    if BUILD.exists():
        shutil.rmtree(BUILD / "storage", ignore_errors=True)
        shutil.rmtree(BUILD / "logs", ignore_errors=True)
    BUILD.mkdir(parents=True, exist_ok=True)
    # The wheelhouse (pip, CPU) and the golden rootfs (debootstrap, mostly the network and the disk) are
    # independent: built side by side.
    with ThreadPoolExecutor(max_workers=2) as pool:
        wheels = pool.submit(
            timed, [str(REPO / "ansible/scripts/build-odoo-wheelhouse.sh"), str(src), str(WHEELHOUSE)], 1800
        )
        rootfs = pool.submit(timed, [str(SCRIPTS / "build-rootfs.sh")], 900)
        figures["Odoo wheelhouse (cached after the first build)"] = wheels.result()
        figures["golden rootfs (side by side; cached after the first build)"] = rootfs.result()
    central = Central(odoo_src=src, storage=BUILD / "storage")
    central.down()
    subprocess.run([str(SCRIPTS / "till-down.sh"), BACKUP_TILL[0]], capture_output=True, check=False)
    try:
        figures["boot to systemd running"] = central.up()
        figures["converge (fresh, database created)"], _, _ = central.playbook()
        # The backup till needs only the server's key (made by the first converge): it is booted and
        # converged while the second converge proves the server's idempotence (which never touches it).
        with ThreadPoolExecutor(max_workers=1) as pool:
            backup_till = pool.submit(prepare_backup_till, central)
            took, changed, out = central.playbook()
            backup_till.result()
        figures["idempotent re-run (the backup till converged beside it)"] = took
        assert changed == 0, "second converge changed something:\n" + "\n".join(changed_tasks(out))
        figures["testinfra"], out = run_testinfra(central)
        print(
            "\n" + "\n".join(line for line in out.splitlines() if "passed" in line or line.startswith("  ["))
        )
        result = drill.run_drill(central, tmp_path, vault_value(ADMIN_PASSWORD_VAR))
    except BaseException:
        if os.environ.get("CENTRAL_KEEP_ON_FAILURE") == "1":  # iterate on the failed server by hand
            print(f"\nkept {central.name} (ssh -p {central.ssh_port} root@127.0.0.1) and {BACKUP_TILL[0]}")
            raise
        subprocess.run([str(SCRIPTS / "till-down.sh"), BACKUP_TILL[0]], capture_output=True, check=False)
        central.down()
        raise
    subprocess.run([str(SCRIPTS / "till-down.sh"), BACKUP_TILL[0]], capture_output=True, check=False)
    central.down()
    print("\nbooted central server (systemd-nspawn, 2-core machine):")
    for name, seconds in figures.items():
        print(f"  {name:<58} {seconds:8.1f} s")
    print("disaster-recovery drill (target RTO ≤ 15 min here; the owner's plan allows 1 h):")
    print("\n".join(result.lines()))
