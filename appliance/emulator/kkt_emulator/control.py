"""Control socket of the emulator: JSON lines over a UNIX socket (``<state_dir>/control.sock``).

Request ``{"cmd": NAME, ...arguments}``, reply ``{"ok": true, "result": ...}`` or ``{"ok": false,
"error": "..."}``. :class:`EmulatorControl` is the Python client used by tests, benchmarks and the CLI.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kkt_adapter.shtrih.commands import parse_code
from kkt_emulator.faults import NAMES, Fault

if TYPE_CHECKING:
    from kkt_emulator.link import PtyServer

log = logging.getLogger(__name__)

SOCKET_NAME = "control.sock"


class ControlServer:
    """Serves control requests for one running emulator (one thread per connection)."""

    def __init__(self, server: PtyServer, path: str | os.PathLike[str]):
        self.server = server
        self.fn = server.device.fn
        self.path = Path(path)
        self._sock: socket.socket | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        self.path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(self.path))
        sock.listen(8)
        sock.settimeout(0.2)
        self._sock = sock
        threading.Thread(target=self._accept_loop, name="kkt-control", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()
        self.path.unlink(missing_ok=True)

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as stream:
            for line in stream:
                try:
                    request = json.loads(line)
                    reply = {"ok": True, "result": self.handle(request)}
                except Exception as exc:  # noqa: BLE001 - any failure goes back to the client as an error reply
                    reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                stream.write(json.dumps(reply, ensure_ascii=False).encode("utf-8") + b"\n")
                stream.flush()

    def handle(self, request: dict[str, Any]) -> Any:
        name = request.get("cmd")
        if name == "ping":
            return "pong"
        if name == "fault":
            return self._fault(request)
        if name == "silent":
            self.server.silent = bool(request.get("on", True))
            return self.server.silent
        if name == "paper":
            self.fn.set_paper(bool(request.get("on", True)))
            return self.fn.state.paper
        if name == "clear":
            self.server.faults.clear()
            self.server.silent = False
            self.fn.set_paper(True)
            return True
        if name == "advance":
            self.fn.advance(float(request["seconds"]))
            return self.fn.now().isoformat()
        if name == "journal":
            return self.fn.store.read_journal()
        if name == "cash_journal":
            return self.fn.store.read_cash_journal()
        if name == "state":
            return self.fn.snapshot()
        if name == "stats":
            return self.server.stats()
        if name == "faults":
            return self.server.faults.snapshot()
        if name == "ofd_confirm":
            return self.fn.confirm(request.get("fds"))
        if name == "set_expiry":
            self.fn.set_expiry(date.fromisoformat(request["date"]))
            return request["date"]
        raise ValueError(f"unknown control command {name!r}")

    def _fault(self, request: dict[str, Any]) -> Any:
        name = request["name"]
        if name not in NAMES:
            raise ValueError(f"unknown fault {name!r}; known: {sorted(NAMES)}")
        if name == "silent":
            self.server.silent = bool(request.get("on", True))
            return self.server.silent
        if name == "paper_out":
            self.fn.set_paper(not request.get("on", True))
            return not self.fn.state.paper
        command = request.get("command")
        self.server.faults.arm(
            Fault(
                name=name,
                count=int(request.get("count", 1)),
                command=None if command in (None, "") else parse_code(command),
                seconds=float(request.get("seconds", 0.0)),
                after_print=bool(request.get("after_print", False)),
                code=int(request.get("code", 0)),
            )
        )
        return self.server.faults.snapshot()


class EmulatorControl:
    """Client of the control socket. Each call opens a short connection (safe across emulator restarts)."""

    def __init__(
        self, path: str | os.PathLike[str], timeout: float = 10.0
    ):  # 10 s: journal reads can be long
        self.path = str(path)
        self.timeout = timeout

    @classmethod
    def for_state_dir(cls, state_dir: str | os.PathLike[str]) -> EmulatorControl:
        return cls(Path(state_dir) / SOCKET_NAME)

    def request(self, cmd: str, **arguments: Any) -> Any:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(self.timeout)
            sock.connect(self.path)
            sock.sendall(json.dumps({"cmd": cmd, **arguments}).encode("utf-8") + b"\n")
            with sock.makefile("rb") as stream:
                line = stream.readline()
        if not line:
            raise ConnectionError("control socket closed without a reply")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise RuntimeError(reply.get("error", "control request failed"))
        return reply["result"]

    def ping(self) -> bool:
        return self.request("ping") == "pong"

    def fault(
        self,
        name: str,
        *,
        count: int = 1,
        command: str | int | None = None,
        seconds: float = 0.0,
        after_print: bool = False,
        code: int = 0,
    ) -> Any:
        """Arm a fault (see emulator.faults); ``command`` as "FF45" or 0xFF45; ``count`` 0 = until cleared."""
        if isinstance(command, int):
            command = f"{command:02X}"
        return self.request(
            "fault",
            name=name,
            count=count,
            command=command,
            seconds=seconds,
            after_print=after_print,
            code=code,
        )

    def silent(self, on: bool = True) -> bool:
        return self.request("silent", on=on)

    def paper(self, on: bool = True) -> bool:
        return self.request("paper", on=on)

    def clear(self) -> bool:
        """Disarm every fault, end silence, put paper back."""
        return self.request("clear")

    def advance(self, seconds: float) -> str:
        """Move the FN clock forward; returns the new FN time (ISO)."""
        return self.request("advance", seconds=seconds)

    def journal(self) -> list[dict[str, Any]]:
        return self.request("journal")

    def cash_journal(self) -> list[dict[str, Any]]:
        """Cash in / cash out documents, oldest first: kind, amount, document_number, drawer_after, …"""
        return self.request("cash_journal")

    def state(self) -> dict[str, Any]:
        return self.request("state")

    def stats(self) -> dict[str, Any]:
        return self.request("stats")

    def faults(self) -> list[dict[str, Any]]:
        return self.request("faults")

    def ofd_confirm(self, fds: list[int] | None = None) -> int:
        """The OFD confirms these FDs (all when None); returns how many were waiting."""
        return self.request("ofd_confirm", fds=fds)

    def set_fn_expiry(self, expires_on: date | str) -> str:
        return self.request("set_expiry", date=str(expires_on))
