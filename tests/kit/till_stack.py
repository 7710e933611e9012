"""A till for browser tests of the POS: KKT emulator + adapter, driven line by line over stdin/stdout.

``python -m tests.kit.till_stack --workdir DIR --pos-id ID --cors-origin URL [--deliver]`` (repo root
on ``PYTHONPATH``, the repo's venv) starts the emulator on a pty and the adapter (gunicorn) on a free
loopback port, then prints one JSON line::

    {"adapter_url": "http://127.0.0.1:PORT", "control": "DIR/emulator/control.sock", "pos_id": ID}

and answers commands, one per line, each with one JSON line ``{"ok": true, ...}`` or ``{"ok": false,
"error": ...}``: ``adapter down`` (the adapter stops; its port drops every connection after reading the
request line, so a browser sees a network error and the test sees what it asked), ``adapter wait PATH
SECONDS`` (until a request for PATH reached the dead port — CORS preflights count), ``adapter up`` (the
same buffer and port again), ``odoo receipts`` (with ``--deliver``: what the Odoo stand-in received, as
``{"ok": true, "receipts": [...]}``, for a test to hand to the real receiver), ``quit``. The emulator
itself (faults, journal) is driven through its control socket. Closing stdin stops everything. Used by
the Odoo tours of ``optics_pos_ru54fz`` (whose Odoo venv does not hold the adapter) and by the
cashier-wait benchmark.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
import threading
import time
from pathlib import Path

from tests.kit.devstack import AdapterProcess, EmulatorProcess
from tests.kit.standins.common import StandinProcess
from tests.kit.standins.odoo import DEFAULT_TOKEN as ODOO_STANDIN_TOKEN
from tests.kit.standins.odoo import OdooControl


class DeadPort:
    """The adapter's port while the adapter is down: reads each request line, then drops the connection."""

    def __init__(self, port: int):
        self.seen: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", port))
        threading.Thread(target=self._accept, name="dead-port", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(1.0)
                with contextlib.suppress(OSError):
                    self.seen.append(conn.recv(1024).split(b"\r\n", 1)[0].decode("latin-1"))

    def wait(self, path: str, seconds: float) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for line in self.seen:
                if f" {path} " in line:
                    return line
            time.sleep(0.05)
        raise TimeoutError(f"no request for {path} in {seconds} s (seen: {self.seen})")

    def close(self) -> None:
        self._listener.close()


def _reply(**payload) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--pos-id", default="tour-till")
    parser.add_argument("--cors-origin", action="append", default=[], help="an Odoo origin the POS runs on")
    parser.add_argument(
        "--print-delay", type=float, default=0.0, help="emulated printing per document after the answer, s"
    )
    parser.add_argument("--capacity", type=int, default=100_000, help="buffer capacity (receipts)")
    parser.add_argument(
        "--deliver",
        action="store_true",
        help="deliver to OFD and Odoo stand-ins started here (a refund needs its sale delivered); never to "
        "the Odoo under test, whose test cursor a till's background requests would race",
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    standins = (
        [StandinProcess.start(kind, state_dir=args.workdir / kind) for kind in ("ofd", "odoo")]
        if args.deliver
        else []
    )
    ofd, odoo = standins or (None, None)

    emulator = EmulatorProcess(args.workdir / "emulator", print_delay=args.print_delay)
    adapter = AdapterProcess(
        workdir=args.workdir / "adapter",
        kkt_port=emulator.port,
        pos_id=args.pos_id,
        capacity=args.capacity,
        ofd_url=ofd.url if ofd else "",
        odoo_url=odoo.url if odoo else "",
        odoo_token=ODOO_STANDIN_TOKEN if odoo else "",
        extra_env={"KKT_ADAPTER_HTTP__CORS_ORIGINS": json.dumps(args.cors_origin)},
    )
    emulator.state_dir.mkdir(parents=True, exist_ok=True)
    emulator.start()
    try:
        adapter.start()
        _reply(adapter_url=adapter.url, control=str(emulator.control.path), pos_id=args.pos_id)
        dead: DeadPort | None = None
        for line in sys.stdin:
            command = line.split()
            try:
                if command == ["adapter", "down"] and dead is None:
                    adapter.stop()
                    dead = DeadPort(adapter.http_port)
                elif command[:2] == ["adapter", "wait"] and dead is not None and len(command) == 4:
                    dead.wait(command[2], float(command[3]))
                elif command == ["adapter", "up"] and dead is not None:
                    dead.close()
                    dead = None
                    adapter.start()
                elif command == ["odoo", "receipts"] and odoo is not None:
                    _reply(ok=True, receipts=OdooControl(odoo.url).receipts())
                    continue
                elif command == ["quit"]:
                    _reply(ok=True)
                    break
                else:
                    raise ValueError(f"unknown command {line.strip()!r}")
            except Exception as exc:  # noqa: BLE001 - reported to the driving test, which fails on it
                _reply(ok=False, error=f"{type(exc).__name__}: {exc}")
            else:
                _reply(ok=True)
    finally:
        adapter.stop()
        emulator.stop()
        for standin in standins:
            standin.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
