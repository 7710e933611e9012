"""The booted central server of the tests: a Debian 12 container (systemd-nspawn, tests/appliance/scripts)
converged with ansible/playbooks/central.yml, and what the host side needs to reach it.

Ports (127.0.0.1 on the host, forwarded by slirp4netns into the container): sshd ``ssh_port``, nginx 443 on
``https_port``. The container reaches the host's loopback as 10.0.2.2 (``TILL_HOST_LOOPBACK=1``: the till
backups are pulled from a till container whose sshd is forwarded there). The backup storage (pgBackRest's
repository and the tills' copies) is a host folder bound at /srv/backup: it outlives the server, as the
chain's backup storage outlives a lost central server.
"""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
import time
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
SCRIPTS = REPO / "tests" / "appliance" / "scripts"
ANSIBLE = REPO / "ansible"
INVENTORY = REPO / "tests" / "appliance" / "central" / "inventory" / "hosts.yml"
VAULT_PASSWORD = REPO / "tests" / "appliance" / "example-vault-password.txt"
BIN = Path(sys.executable).parent


def _inventory_db() -> str:
    """The Odoo database the central_odoo role creates: the test inventory's central_odoo_db_name, else the
    role's default."""
    for path in (
        INVENTORY.parent / "group_vars" / "central" / "odoo.yml",
        ANSIBLE / "roles" / "central_odoo" / "defaults" / "main.yml",
    ):
        value = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("central_odoo_db_name")
        if value:
            return str(value)
    raise AssertionError("central_odoo_db_name is set nowhere")


DB = _inventory_db()
#: Where the harness mounts the host's Odoo tree (the inventory's central_odoo_src_dir).
ODOO_MOUNT = "/opt/odoo17"
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


class CommandFailed(AssertionError):
    pass


def run(argv: list[str], *, env: dict | None = None, cwd: Path = REPO, timeout: float = 600) -> str:
    proc = subprocess.run(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-150:])
        raise CommandFailed(f"{' '.join(map(str, argv))} failed (exit {proc.returncode}):\n{tail}")
    return proc.stdout


@dataclass
class Central:
    """One central server container; ``storage`` is the host folder behind /srv/backup."""

    odoo_src: Path
    storage: Path
    name: str = "central-01"
    ssh_port: int = 22401
    https_port: int = 22443

    # -- lifecycle --

    def up(self) -> float:
        """Boots a fresh server (an empty overlay on the golden rootfs); returns the boot time (s)."""
        self.storage.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "TILL_FORWARDS": f"{self.https_port}:443",
            "TILL_BIND_RO": f"{self.odoo_src}:{ODOO_MOUNT}",
            "TILL_BIND": f"{self.storage}:/srv/backup",
            "TILL_HOST_LOOPBACK": "1",
        }
        out = run([str(SCRIPTS / "till-up.sh"), self.name, str(self.ssh_port)], env=env, timeout=300)
        boot = re.search(r"up in ([0-9.]+)s", out)
        return float(boot.group(1)) if boot else 0.0

    def down(self) -> None:
        subprocess.run(
            [str(SCRIPTS / "till-down.sh"), self.name], capture_output=True, check=False, timeout=120
        )

    def wipe(self) -> None:
        """The disaster: the machine is gone (no clean shutdown), only the backup storage survives."""
        env = {**os.environ, "TILL_STOP_TIMEOUT": "1"}
        subprocess.run(
            [str(SCRIPTS / "till-down.sh"), self.name], env=env, capture_output=True, check=False, timeout=120
        )

    # -- inside the server --

    def exec(self, *argv: str, timeout: float = 120, check: bool = True) -> str:
        proc = subprocess.run(
            [str(SCRIPTS / "till-exec.sh"), self.name, *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise CommandFailed(
                f"{' '.join(argv)} in {self.name} failed ({proc.returncode}): {proc.stdout[-2000:]}"
            )
        return proc.stdout

    def psql(self, sql: str, db: str = DB) -> list[list[str]]:
        """Rows of a query run by the OS user postgres over the unix socket (| separated fields)."""
        out = self.exec("runuser", "-u", "postgres", "--", "psql", "-d", db, "-XAtq", "-F", "|", "-c", sql)
        return [line.split("|") for line in out.splitlines() if line]

    # -- Ansible --

    def playbook(self, *extra: str, timeout: float = 1800) -> tuple[float, int, str]:
        """ansible-playbook central.yml against this server: (seconds, changed count, output)."""
        env = {
            **os.environ,
            "PATH": f"{BIN}:{os.environ['PATH']}",
            "CENTRAL_SSH_PORT": str(self.ssh_port),
            "ANSIBLE_CONFIG": str(ANSIBLE / "ansible.cfg"),
            "ANSIBLE_HOST_KEY_CHECKING": "false",
            "ANSIBLE_NOCOLOR": "1",
            "PY_COLORS": "0",
        }
        argv = [
            str(BIN / "ansible-playbook"),
            "-i",
            str(INVENTORY),
            "--vault-password-file",
            str(VAULT_PASSWORD),
            "playbooks/central.yml",
            *extra,
        ]
        started = time.monotonic()
        out = run(argv, env=env, cwd=ANSIBLE, timeout=timeout)
        took = time.monotonic() - started
        self._keep_log(out)
        recap = {m.group(1): m for m in RECAP.finditer(out)}
        assert self.name in recap, f"no PLAY RECAP line for {self.name}:\n{out[-3000:]}"
        line = recap[self.name]
        assert (line.group(4), line.group(5)) == ("0", "0"), line.group(0)
        return took, int(line.group(3)), out

    def _keep_log(self, out: str) -> None:
        """Each run's output (profile_tasks timings included) under build/central/logs, numbered in order."""
        logs = REPO / "build" / "central" / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        n = len(list(logs.glob(f"{self.name}-converge-*.log"))) + 1
        (logs / f"{self.name}-converge-{n}.log").write_text(out, encoding="utf-8")

    # -- from the host, as a store reaches it --

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def certificate(self, path: Path) -> Path:
        """The server's certificate (self-signed in the test inventory) as the CA file of clients that must
        trust it. A rebuilt server makes a new self-signed certificate with the same names; it replaces the
        old one in the file (OpenSSL picks a trust anchor by subject), standing for the chain's CA, which in
        production signs the certificate of every rebuild (central_proxy_certificate)."""
        pem = ssl.get_server_certificate(("127.0.0.1", self.https_port))
        path.write_text(pem, encoding="ascii")
        return path

    def odoo(self, cafile: Path, login: str, password: str) -> Odoo:
        return Odoo(self.url, cafile, DB, login, password)


class Odoo:
    """XML-RPC through nginx (TLS 1.3, the server's certificate trusted), as an integration would call it."""

    def __init__(self, url: str, cafile: Path, db: str, login: str, password: str):
        ctx = ssl.create_default_context(cafile=str(cafile))
        self.db, self.password = db, password
        common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common", context=ctx)
        self.uid = common.authenticate(db, login, password, {})
        assert self.uid, f"{login} cannot log in to {db}"
        self.models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", context=ctx, allow_none=True)

    def call(self, model: str, method: str, *args, **kwargs):
        return self.models.execute_kw(self.db, self.uid, self.password, model, method, list(args), kwargs)
