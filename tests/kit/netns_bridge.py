"""A TCP port inside another network namespace forwarded to an address of the test's own namespace.

The booted test till has a network namespace of its own behind slirp4netns ``--disable-host-loopback``:
nothing in it reaches the host's loopback, where the bench's Odoo listens. ``NetnsBridge`` opens a listening
socket *inside* the till's namespace (a short-lived thread enters it with ``setns(2)``, which moves only the
calling thread); the rest is a ``Gate`` (tests/kit/gate.py), which serves every connection from the test's
own namespace, connecting to ``target`` and copying bytes both ways. To the till it looks like a service on
its own 127.0.0.1, as the store's Odoo behind the kiosk's URL; the till's configuration is not touched.
Needs CAP_SYS_ADMIN (the appliance suite runs as root). Test-only; never shipped.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading

from tests.kit.gate import Gate

#: setns(2) flag for a network namespace (linux/sched.h).
CLONE_NEWNET = 0x40000000


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


class NetnsBridge(Gate):
    """``listen`` inside the namespace ``netns`` → ``target`` in the caller's namespace."""

    def __init__(self, netns: str, listen: tuple[str, int], target: tuple[str, int]):
        super().__init__(target[1])
        self.upstream = target
        self.netns = netns
        self.listen = listen
        self.port = listen[1]
        self.url = f"http://{listen[0]}:{listen[1]}"

    def _listen(self) -> socket.socket:
        return _socket_in_netns(self.netns, self.listen)

    def start(self) -> NetnsBridge:
        self.__enter__()
        return self

    def stop(self) -> None:
        self.__exit__()
