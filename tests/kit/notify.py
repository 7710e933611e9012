"""NotifySocket: a UNIX datagram socket standing in for systemd's NOTIFY_SOCKET (READY, STATUS, WATCHDOG)."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from pathlib import Path


class NotifySocket:
    def __init__(self, path: Path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, str]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            self.messages.append((time.monotonic(), data.decode()))

    def pings_between(self, start: float, end: float) -> int:
        return sum(1 for t, m in self.messages if start <= t <= end and "WATCHDOG=1" in m.split("\n"))

    def last_status(self) -> str:
        for _, m in reversed(self.messages):
            for line in m.split("\n"):
                if line.startswith("STATUS="):
                    return line[len("STATUS=") :]
        return ""

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()

    def max_ping_gap(self, start: float, end: float) -> float:
        """Longest stretch without a WATCHDOG=1 ping within [start, end] (the edges count as pings)."""
        times = [t for t, m in self.messages if start <= t <= end and "WATCHDOG=1" in m.split("\n")]
        edges = [start, *times, end]
        return max(b - a for a, b in itertools.pairwise(edges))
