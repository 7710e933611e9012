"""Real Odoo servers on the bench database, for the scenarios the in-process ``HttpCase`` server cannot play.

``make test-odoo`` (tests/setup/odoo_bench.py) installs our addons on a fresh database, then runs
``tests/odoo`` and the contract suite with ``ODOO_BENCH_*`` in the environment (``Bench.from_env``). A
scenario starts its own ``odoo-bin --workers=2`` (prefork: a master and two HTTP workers, like production)
on that database, can kill it with SIGKILL, and reads the database with ``psql`` as the bench's role.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import xmlrpc.client
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.kit.devstack import free_port

#: Seconds for a prefork Odoo to answer /web/health (registry load on a loaded 2-CPU box).
START_TIMEOUT = 120.0
ADMIN = ("admin", "admin")  # the fresh database's administrator (``odoo-bin -i`` without demo data)


@dataclass(frozen=True)
class Bench:
    """Where the bench's Odoo and database are (exported by tests/setup/odoo_bench.py)."""

    python: str
    odoo_bin: str
    addons_path: str
    pg_host: str
    pg_port: str
    pg_user: str
    pg_bin: str
    database: str
    log_dir: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Bench | None:
        """From ``env`` (default: this process's environment); None when no bench is named there."""
        env = os.environ if env is None else env
        if "ODOO_BENCH_DB" not in env:
            return None
        return cls(
            python=env["ODOO_BENCH_PYTHON"],
            odoo_bin=env["ODOO_BENCH_ODOO_BIN"],
            addons_path=env["ODOO_BENCH_ADDONS_PATH"],
            pg_host=env["ODOO_BENCH_PG_HOST"],
            pg_port=env["ODOO_BENCH_PG_PORT"],
            pg_user=env["ODOO_BENCH_PG_USER"],
            pg_bin=env["ODOO_BENCH_PG_BIN"],
            database=env["ODOO_BENCH_DB"],
            log_dir=Path(env["ODOO_BENCH_LOG_DIR"]),
        )

    def psql_command(self) -> list[str]:
        return [f"{self.pg_bin}/psql", "-h", self.pg_host, "-p", self.pg_port, "-U", self.pg_user,
                "-d", self.database, "-tA", "-v", "ON_ERROR_STOP=1"]  # fmt: skip

    def sql(self, query: str) -> str:
        """One query's output (tuples only, unaligned) as the bench's role."""
        return subprocess.run(
            self.psql_command(), input=query, capture_output=True, text=True, check=True
        ).stdout


class OdooServer:
    """``odoo-bin --workers=N`` on the bench database, in its own process group (SIGKILL takes it all)."""

    def __init__(
        self,
        bench: Bench,
        name: str,
        workers: int = 2,
        cron_threads: int = 0,
        http_interface: str = "127.0.0.1",
    ):
        self.bench = bench
        self.name = name
        self.workers = workers
        #: 0 by default: the scenarios call every method themselves; background jobs (price imports) need 1+.
        self.cron_threads = cron_threads
        #: Loopback by default; a NetLab's management address when a proxy in its namespace fronts Odoo.
        self.http_interface = http_interface
        self.port = free_port()
        self.url = f"http://{http_interface}:{self.port}"
        self.log = bench.log_dir / f"odoo-{name}.log"
        self.proc: subprocess.Popen | None = None
        self._local = threading.local()

    def start(self) -> OdooServer:
        b = self.bench
        cmd = [
            b.python, b.odoo_bin, "--addons-path", b.addons_path,
            "--db_host", b.pg_host, "--db_port", b.pg_port, "--db_user", b.pg_user,
            "-d", b.database, "--db-filter", f"^{b.database}$", "--no-database-list",
            "--http-interface", self.http_interface, "--http-port", str(self.port),
            "--gevent-port", str(free_port()),
            f"--workers={self.workers}", f"--max-cron-threads={self.cron_threads}", "--log-level=info",
            # Generous limits: a 2-CPU box under test must not have its workers recycled mid-scenario.
            "--limit-time-real=300", "--limit-time-cpu=300",
        ]  # fmt: skip
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"odoo {self.name} exited {self.proc.returncode}; see {self.log}")
            try:
                if requests.get(f"{self.url}/web/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.kill()
        raise RuntimeError(
            f"odoo {self.name} did not answer /web/health in {START_TIMEOUT} s; see {self.log}"
        )

    def kill(self) -> None:
        """SIGKILL to the master and its workers: no request finishes, no transaction commits."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> OdooServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- provisioning, as the administrator over XML-RPC (the same path as the admin's UI buttons) ---------

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """``model.method(*args, **kwargs)`` as the administrator (one authentication per server and thread;
        an XML-RPC proxy is not thread-safe, so each thread has its own)."""
        local = self._local.__dict__
        if "objects" not in local:
            common = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/common")
            local["uid"] = common.authenticate(self.bench.database, ADMIN[0], ADMIN[1], {})
            local["objects"] = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/object", allow_none=True)
        objects, uid = local["objects"], local["uid"]
        return objects.execute_kw(self.bench.database, uid, ADMIN[1], model, method, list(args), kwargs)

    def call_json(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Like ``call`` over JSON-RPC (``/jsonrpc``), for methods that return None (XML-RPC cannot)."""
        uid = self.call("res.users", "search", [("login", "=", ADMIN[0])])[0]
        call = [self.bench.database, uid, ADMIN[1], model, method, list(args), kwargs]
        params = {"service": "object", "method": "execute_kw", "args": call}
        body = {"jsonrpc": "2.0", "method": "call", "params": params}
        reply = requests.post(f"{self.url}/jsonrpc", json=body, timeout=300).json()
        if "error" in reply:
            raise RuntimeError(
                f"{model}.{method}: {reply['error'].get('data', {}).get('message', reply['error'])}"
            )
        return reply.get("result")  # Odoo leaves "result" out when it is None

    def add_till(self, pos_id: str) -> str:
        """Register a till and issue its token (``action_issue_token``, as the admin's button); returns it."""
        till_id = self.call("pos.offline.buffer.status", "create", {"name": pos_id, "pos_id": pos_id})
        action = self.call("pos.offline.buffer.status", "action_issue_token", [till_id])
        return action["context"]["optics_clear_token"]
