"""A TCP port inside another network namespace forwarded to an address of the test's own namespace.

The booted test till has a network namespace of its own behind slirp4netns ``--disable-host-loopback``:
nothing in it reaches the host's loopback, where the bench's Odoo listens. ``NetnsBridge`` opens a listening
socket *inside* the till's namespace (a short-lived thread enters it with ``setns(2)``, which moves only the
calling thread) and serves every connection from the test's own namespace, connecting to ``target`` and
copying bytes both ways. To the till it looks like a service on its own 127.0.0.1, as the store's Odoo
behind the kiosk's URL; the till's configuration is not touched. Needs CAP_SYS_ADMIN (the appliance suite
runs as root). Test-only; never shipped.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import threading

#: setns(2) flag for a network namespace (linux/sched.h).
CLONE_NEWNET = 0x40000000
#: Bytes per read when copying between the two sockets.
CHUNK = 65536


def _socket_in_netns(netns: str, address: tuple[str, int]) -> socket.socket:
    """A listening TCP socket created inside the namespace file ``netns`` (e.g. /run/netns/NAME)."""
    result: dict[str, object] = {}

    def enter_and_listen() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        try:
            fd = os.open(netns, os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns({netns}): {os.strerror(err)}")
            finally:
                os.close(fd)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(64)
            result["sock"] = sock
        except OSError as exc:
            result["error"] = exc

    # The thread ends in the other namespace and is gone; the socket keeps the namespace it was made in.
    thread = threading.Thread(target=enter_and_listen, name="netns-listen")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["sock"]  # type: ignore[return-value]


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(CHUNK):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        # Half-close: the other direction may still be sending (an HTTP response after the request's end).
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


class NetnsBridge:
    """``listen`` inside the namespace ``netns`` → ``target`` in the caller's namespace."""

    def __init__(self, netns: str, listen: tuple[str, int], target: tuple[str, int]):
        self.netns = netns
        self.listen = listen
        self.target = target
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        #: Connections served so far (a test can assert that traffic really crossed the bridge).
        self.connections = 0

    def start(self) -> NetnsBridge:
        self._sock = _socket_in_netns(self.netns, self.listen)
        self._thread = threading.Thread(target=self._accept, name="netns-bridge", daemon=True)
        self._thread.start()
        return self

    def _accept(self) -> None:
        assert self._sock is not None
        while True:
            try:
                inner, _ = self._sock.accept()
            except OSError:
                return  # closed by stop()
            self.connections += 1
            threading.Thread(target=self._serve, args=(inner,), daemon=True).start()

    def _serve(self, inner: socket.socket) -> None:
        try:
            outer = socket.create_connection(self.target, timeout=10)
        except OSError:
            inner.close()
            return
        outer.settimeout(None)
        back = threading.Thread(target=_pipe, args=(outer, inner), daemon=True)
        back.start()
        _pipe(inner, outer)
        back.join()
        inner.close()
        outer.close()

    def stop(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):  # wakes the accept() of the bridge's thread
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None

    def __enter__(self) -> NetnsBridge:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
