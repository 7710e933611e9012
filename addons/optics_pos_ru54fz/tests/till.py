"""A real till for the POS tours: the KKT emulator and the adapter, started from the repository's test kit.

Odoo's venv does not hold the adapter, so the till runs in the repository's venv
(``python -m tests.kit.till_stack``, driven over its stdin/stdout); ``OPTICS_REPO`` names the repository
(tests/setup/odoo_bench.py sets it). The emulator is driven through its control socket (JSON lines).
"""

import json
import os
import select
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests

#: How long the emulator and the adapter may take to start on a loaded CI machine.
START_TIMEOUT = 60.0


class TillUnavailable(RuntimeError):
    """The till cannot be started here; the message says what is missing."""


class Till:
    def __init__(
        self,
        origin,
        pos_id="tour-till",
        print_delay=0.0,
        capacity=100_000,
        deliver=False,
    ):
        repo = os.environ.get("OPTICS_REPO")
        if not repo or not (Path(repo) / ".venv" / "bin" / "python").exists():
            raise TillUnavailable(
                "the POS tours need the repository's venv with the adapter (OPTICS_REPO=<repo> with "
                "<repo>/.venv, set by tests/setup/odoo_bench.py)"
            )
        self.workdir = tempfile.mkdtemp(prefix="optics-till-")
        command = [
            str(Path(repo) / ".venv" / "bin" / "python"),
            "-m",
            "tests.kit.till_stack",
            "--workdir",
            self.workdir,
            "--pos-id",
            pos_id,
            "--cors-origin",
            origin,
            "--print-delay",
            str(print_delay),
            "--capacity",
            str(capacity),
            *(["--deliver"] if deliver else []),
        ]
        env = {**os.environ, "PYTHONPATH": repo}
        self.proc = subprocess.Popen(
            command, cwd=repo, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        info = self._read(START_TIMEOUT)
        self.url = info["adapter_url"]
        self.control_path = info["control"]
        self.pos_id = info["pos_id"]

    def _read(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise TillUnavailable(f"the till stack did not answer in {timeout} s (workdir {self.workdir})")
        line = self.proc.stdout.readline()
        if not line:
            raise TillUnavailable(f"the till stack exited with {self.proc.wait()} (workdir {self.workdir})")
        return json.loads(line)

    def command(self, text, timeout=START_TIMEOUT):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        reply = self._read(timeout)
        if not reply.get("ok"):
            raise RuntimeError(f"till stack: {text}: {reply.get('error')}")
        return reply

    def control(self, cmd, **arguments):
        """One request to the emulator's control socket."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(self.control_path)
            sock.sendall(json.dumps({"cmd": cmd, **arguments}).encode() + b"\n")
            with sock.makefile("rb") as stream:
                reply = json.loads(stream.readline())
        if not reply.get("ok"):
            raise RuntimeError(reply.get("error"))
        return reply["result"]

    def journal(self):
        """Every document the emulated FN signed, oldest first."""
        return self.control("journal")

    def receipts(self):
        """The receipts (sales, refunds, corrections) among them."""
        return [doc for doc in self.journal() if "items" in doc]

    def wait_receipts(self, count, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            receipts = self.receipts()
            if len(receipts) >= count:
                return receipts
            time.sleep(0.2)
        raise AssertionError(f"{count} receipts expected in the FN journal, found {len(self.receipts())}")

    def buffer_status(self):
        return requests.get(f"{self.url}/v1/kkt/buffer/status", timeout=5).json()

    def wait_delivered(self, timeout=60.0):
        """Until every receipt reached the OFD and Odoo (none awaits delivery)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.buffer_status()["current_queued"] == 0:
                return
            time.sleep(0.3)
        raise AssertionError(f"receipts still await delivery after {timeout} s: {self.buffer_status()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
