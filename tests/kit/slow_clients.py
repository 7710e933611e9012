"""SlowHeaderFlood: N connections that send a request's headers one line at a time, slowly (slowloris).

Bounded in time (``duration``) and to the address given (loopback or a socket of the test's own). Each
connection records when the server dropped it, counted from the moment it was accepted; ``dropped_after``
lists those times, so a test can check that a proxy cut them at its header timeout.
"""

from __future__ import annotations

import socket
import threading
import time

#: How long a client keeps trying to connect. On a loaded machine, or through slirp4netns's user-space port
#: forwarding into a booted till, accepting 30 connections at once may take seconds; the flood measures what
#: the server does with connections it accepted, so a slow accept is waited for, not counted as a drop.
CONNECT_SECONDS = 10.0


class SlowHeaderFlood:
    def __init__(self, host: str, port: int, connections: int = 50, drip_seconds: float = 1.0,
                 duration: float = 10.0):  # fmt: skip
        self.address = (host, port)
        self.connections = connections
        self.drip_seconds = drip_seconds
        self.duration = duration
        self.opened = 0
        self.dropped_after: list[float] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def _one(self) -> None:
        deadline = time.monotonic() + CONNECT_SECONDS
        while True:
            try:
                sock = socket.create_connection(self.address, timeout=2)
                break
            except OSError:
                if self._stop.is_set() or time.monotonic() >= deadline:
                    return
                time.sleep(0.1)
        started = time.monotonic()
        with self._lock:
            self.opened += 1
        sock.settimeout(self.drip_seconds)
        try:
            sock.sendall(b"POST /v1/kkt/receipt HTTP/1.1\r\nHost: till\r\n")
            line = 0
            while not self._stop.is_set() and time.monotonic() - started < self.duration:
                try:
                    if sock.recv(1024) == b"":  # the server closed (or answered and closed)
                        break
                    break  # any answer (408 from a proxy) ends this client too
                except TimeoutError:
                    pass
                line += 1
                sock.sendall(f"X-Slow-{line}: {line}\r\n".encode())
            else:
                return  # still held open by the server when the flood ended
            with self._lock:
                self.dropped_after.append(time.monotonic() - started)
        except OSError:
            with self._lock:
                self.dropped_after.append(time.monotonic() - started)
        finally:
            sock.close()

    def __enter__(self) -> SlowHeaderFlood:
        for _ in range(self.connections):
            thread = threading.Thread(target=self._one, daemon=True)
            thread.start()
            self._threads.append(thread)
        deadline = time.monotonic() + CONNECT_SECONDS
        while self.opened < self.connections and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def wait(self) -> None:
        """Let the flood run its course: until the server dropped every connection or ``duration`` ended."""
        for thread in self._threads:
            thread.join(CONNECT_SECONDS + self.duration + self.drip_seconds + 3)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.drip_seconds + 3)
