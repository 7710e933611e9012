"""Launchers of a local till stack (KKT emulator and adapter processes) for make demo and scenario tests."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests
from kkt_emulator.control import EmulatorControl

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


READY_TIMEOUT = 15.0  # seconds for the emulator's READY line (interpreter start + imports on a busy box)


class EmulatorProcess:
    """One ``kkt-emulator run`` process bound to a state directory (its pty link is ``STATE_DIR/ttyKKT``)."""

    def __init__(
        self,
        state_dir: Path,
        *,
        baud: int = 115200,
        sign_delay: float = 0.0,  # FN signing time before a printing command's answer
        print_delay: float = 0.0,  # printer time after the answer (0x50 refusals meanwhile)
        extra: tuple[str, ...] = (),
    ):
        self.state_dir = Path(state_dir)
        self.port = str(self.state_dir / "ttyKKT")
        self.control = EmulatorControl.for_state_dir(self.state_dir)
        self.args = [
            sys.executable,
            "-m",
            "kkt_emulator.cli",
            "run",
            "--state-dir",
            str(self.state_dir),
            "--link",
            self.port,
            "--baud",
            str(baud),
            "--sign-delay",
            str(sign_delay),
            "--print-delay",
            str(print_delay),
            *extra,
        ]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> EmulatorProcess:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.state_dir / "emulator.log", "ab")  # noqa: SIM115 - handed to the child process
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 256)
                if not chunk:
                    break
                line += chunk
        if not line.startswith(b"READY "):
            self.stop()
            raise RuntimeError(f"emulator did not start: {line!r}; see {self.state_dir / 'emulator.log'}")
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def restart(self) -> EmulatorProcess:
        self.stop()
        return self.start()


@dataclass
class AdapterProcess:
    """``kkt-adapter`` (gunicorn, 1 worker, threads) configured entirely through the environment."""

    workdir: Path
    kkt_port: str
    pos_id: str = "test-till"
    capacity: int = 100_000
    token: str = "s3cret"
    # Delivery endpoints (empty = not configured) and the till's token at Odoo.
    ofd_url: str = ""
    odoo_url: str = ""
    odoo_token: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    http_port: int = field(default_factory=free_port)
    # Where the API listens, and what starts the process (e.g. ``ip netns exec NS`` for a till in a network
    # namespace: tests/poc/test_monitoring_drill.py).
    listen_host: str = "127.0.0.1"
    prefix: tuple[str, ...] = ()
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.listen_host}:{self.http_port}"

    @property
    def db_path(self) -> Path:
        return self.workdir / "buffer.db"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KKT_ADAPTER_")}
        env.update(
            {
                "KKT_ADAPTER_CONFIG": str(self.workdir / "config.toml"),
                "KKT_ADAPTER_POS_ID": self.pos_id,
                "KKT_ADAPTER_HTTP__LISTEN": f"{self.listen_host}:{self.http_port}",
                "KKT_ADAPTER_BUFFER__PATH": str(self.db_path),
                "KKT_ADAPTER_BUFFER__CAPACITY": str(self.capacity),
                "KKT_ADAPTER_KKT__PORT": self.kkt_port,
                "KKT_ADAPTER_KKT__RETRY_INTERVAL_SECONDS": "0.5",
                "KKT_ADAPTER_ADMIN__TOKEN": self.token,
                "KKT_ADAPTER_LOG__LEVEL": "warning",
                "KKT_ADAPTER_OFD__URL": self.ofd_url,
                "KKT_ADAPTER_ODOO__URL": self.odoo_url,
                "KKT_ADAPTER_ODOO__TOKEN": self.odoo_token,
                # Each stack its own host lock (on a till: /run/kkt-adapter/sync.lock).
                "KKT_ADAPTER_SYNC__LOCK_PATH": str(self.workdir / "sync.lock"),
            }
        )
        env.update(self.extra_env)
        return env

    def spawn(self) -> AdapterProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / "adapter.log", "ab")  # noqa: SIM115 - owned by the child process
        self.proc = subprocess.Popen(
            [*self.prefix, str(BIN / "kkt-adapter")],
            env=self.env(),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        return self

    def wait_ready(self, timeout: float = 20.0) -> AdapterProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"adapter exited with {self.proc.returncode}; see {self.workdir}/adapter.log"
                )
            try:
                if requests.get(self.url + "/v1/health/live", timeout=0.5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.02)
        raise TimeoutError("adapter did not become live")

    def start(self) -> AdapterProcess:
        return self.spawn().wait_ready()

    def kill9(self) -> None:
        """SIGKILL the whole process group (arbiter and worker), like a crash or an OOM kill."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill9()

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def post_receipt(self, body: dict, key: str | None = None, timeout: float = 30.0) -> requests.Response:
        return requests.post(
            self.url + "/v1/kkt/receipt",
            json=body,
            headers={"Idempotency-Key": key or str(uuid.uuid4())},
            timeout=timeout,
        )
