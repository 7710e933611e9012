"""systemd notification from the gunicorn worker: READY, STATUS and a watchdog that proves liveness.

The gunicorn arbiter would send READY=1 as soon as it binds, before the app has opened its buffer.
``gunicorn.conf.py`` therefore moves ``NOTIFY_SOCKET`` aside (to ``KKT_NOTIFY_SOCKET``) before the arbiter
starts; the worker sends READY=1 itself once the app is built (the unit needs ``NotifyAccess=all``).

WATCHDOG=1 is sent only while the adapter itself is alive: a worker thread answers ``/v1/health/live``
through the listening socket and the buffer takes a write. The KKT is deliberately NOT part of it: an
unplugged or jammed register is reported in STATUS, health and metrics, and must never make systemd
restart the adapter in a loop.
"""

from __future__ import annotations

import http.client
import logging
import os
import socket
import threading
from collections.abc import Callable

import requests
import sdnotify

log = logging.getLogger(__name__)

SOCKET_ENV = "KKT_NOTIFY_SOCKET"


def hide_socket_from_arbiter(environ: dict | None = None) -> None:
    """Called by gunicorn.conf.py in the arbiter, before gunicorn's own sd_notify could run."""
    env = os.environ if environ is None else environ
    if env.get("NOTIFY_SOCKET"):
        env[SOCKET_ENV] = env.pop("NOTIFY_SOCKET")


class Notifier:
    """Thin wrapper over ``sdnotify``: a no-op when the process was not started by systemd."""

    def __init__(self) -> None:
        addr = os.environ.get(SOCKET_ENV) or os.environ.get("NOTIFY_SOCKET")
        self.enabled = bool(addr)
        self._sd = None
        if self.enabled:
            previous = os.environ.get("NOTIFY_SOCKET")
            os.environ["NOTIFY_SOCKET"] = addr  # sdnotify reads it once, at construction
            self._sd = sdnotify.SystemdNotifier()
            if previous is None:
                os.environ.pop("NOTIFY_SOCKET", None)

    def send(self, *lines: str) -> None:
        if self._sd is not None:
            self._sd.notify("\n".join(lines))


def watchdog_interval(environ: dict | None = None) -> float | None:
    """A third of WatchdogSec (systemd's advice), or None when no watchdog is configured."""
    usec = (os.environ if environ is None else environ).get("WATCHDOG_USEC")
    if not usec or not usec.isdigit() or int(usec) == 0:
        return None
    return int(usec) / 1_000_000 / 3


class Watchdog(threading.Thread):
    """Pings WATCHDOG=1 at ``interval`` while ``alive()`` holds; always refreshes STATUS."""

    def __init__(
        self, notifier: Notifier, interval: float, alive: Callable[[], bool], status: Callable[[], str]
    ):
        super().__init__(name="kkt-watchdog", daemon=True)
        self.notifier = notifier
        self.interval = interval
        self.alive = alive
        self.status = status
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                healthy = self.alive()
            except Exception:
                log.exception("watchdog self-check failed")
                healthy = False
            lines = [f"STATUS={self.status()}"]
            if healthy:
                lines.append("WATCHDOG=1")
            else:
                log.error("adapter self-check failed: withholding the watchdog ping")
            self.notifier.send(*lines)


class _UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over gunicorn's unix socket ([http] socket)."""

    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.path)
        self.sock = sock


def http_alive(listen: str, timeout: float, unix_socket: str = "") -> bool:
    """True when a worker thread answers the liveness endpoint through gunicorn's own listening socket
    (the unix socket when a proxy serves ``listen``: the proxy's health is not the adapter's)."""
    if unix_socket:
        conn = _UnixHTTPConnection(unix_socket, timeout)
        try:
            conn.request("GET", "/v1/health/live")
            return conn.getresponse().status == 200
        finally:
            conn.close()
    host, _, port = listen.rpartition(":")
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host.strip("[]")  # noqa: S104 - compare only
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/v1/health/live"
    return requests.get(url, timeout=timeout).status_code == 200
