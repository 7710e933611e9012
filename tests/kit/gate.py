"""Gate: a TCP forwarder on loopback that a test opens and closes, to cut a till off from a real server.

The tills reach real Odoo through it (``Gate(upstream_port).url``). Closed, it accepts and drops every
connection and cuts the open ones (the till sees a reset: a transient failure); open, it pumps bytes both
ways. For servers the test starts on loopback itself, where NetLab's veth links would be overkill. The
listening socket comes from ``_listen()``: tests/kit/netns_bridge.py makes it inside another namespace.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.kit.devstack import free_port


class Gate:
    def __init__(self, upstream_port: int, open_: bool = True):
        self.upstream = ("127.0.0.1", upstream_port)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.is_open = open_
        #: Connections forwarded so far (a test can assert that traffic really crossed).
        self.connections = 0
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None

    def _listen(self) -> socket.socket:
        return socket.create_server(("127.0.0.1", self.port))

    def __enter__(self) -> Gate:
        self._listener = self._listen()
        threading.Thread(target=self._accept, name="gate-accept", daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._listener is not None:
            # shutdown() wakes the accept() of the gate's thread; close() alone would leave the socket
            # listening (and accepting) until that accept() returned.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        self.close()

    def open(self) -> None:
        self.is_open = True

    def close(self) -> None:
        """Refuse new connections and cut the open ones."""
        self.is_open = False
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed
            if not self.is_open:
                client.close()
                continue
            self.connections += 1
            try:
                upstream = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
