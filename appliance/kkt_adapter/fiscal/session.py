"""``DeviceSession``: the one owner of the KKT port — the device, its lock, its health, a lazily opened link.

Every device exchange of the adapter (printing, reconciliation, shifts, OFD relay, probes) runs under
``lock`` (re-entrant: a print may open a shift). A failed link is closed so the next attempt opens the port
afresh (a KKT unplugged and plugged back is a new device behind the same path); a KKT that failed ENQ
within ``retry_interval`` seconds is left alone by background work and by waiting cashiers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kkt_adapter.fiscal.kkt_health import KktHealth
from kkt_adapter.kkt.errors import KktDeviceError, KktError, KktLinkError, KktTimeout
from kkt_adapter.kkt.interface import FiscalDevice
from kkt_adapter.kkt.types import ShortStatus

#: Health texts of the KKT states that block a receipt but not the link (also used by the printer).
PAPER_OUT = ("paper_out", "no paper in the KKT")
SHIFT_EXPIRED = ("shift_expired", "the shift is over 24 h: close it with a Z report")


class DeviceSession:
    def __init__(self, device: FiscalDevice, retry_interval: float, health: KktHealth | None = None):
        self.device = device
        self.health = health or KktHealth()
        self.lock = threading.RLock()
        self.retry_interval = retry_interval  # [kkt] retry_interval_seconds
        self._open = False

    def ensure_open(self) -> FiscalDevice:
        """The device with its port open (call under ``lock``)."""
        if not self._open:
            self.device.open()
            self._open = True
        return self.device

    def close_link(self) -> None:
        try:
            self.device.close()
        finally:
            self._open = False

    def note_error(self, exc: KktError) -> None:
        """Record a failed exchange in the health; drop the link unless the device itself answered."""
        if isinstance(exc, KktTimeout):
            self.health.set("timeout", str(exc))
        elif isinstance(exc, KktLinkError):
            self.health.set("unreachable", str(exc))
        else:
            self.health.set("error", str(exc))
        if not isinstance(exc, KktDeviceError):
            self.close_link()

    @contextmanager
    def noting_errors(self) -> Iterator[None]:
        try:
            yield
        except KktError as exc:
            self.note_error(exc)
            raise

    def known_unreachable(self) -> bool:
        """The KKT failed ENQ within the last retry interval: a waiting cashier is not made to wait again
        (the background printer keeps probing and prints the backlog as soon as the KKT answers)."""
        snap = self.health.snapshot()
        return snap.state == "unreachable" and time.time() - snap.checked_at < self.retry_interval

    def skip_if_unreachable(self) -> None:
        """Background device work leaves a KKT that just failed alone: only the prober knocks."""
        if self.known_unreachable():
            raise KktLinkError("the KKT did not answer within the retry interval; skipped")

    def probe(self) -> None:
        """Refresh the KKT health from a short status (background; never raises)."""
        try:
            with self.lock:
                status = self.ensure_open().short_status()
            self.note_status(status)
        except KktError as exc:
            self.note_error(exc)

    def note_status(self, status: ShortStatus) -> None:
        """The health and the shift state from a short status the KKT just answered."""
        self.health.note_shift(status.shift_open)
        if status.paper_out:
            self.health.set(*PAPER_OUT)
        elif status.shift_expired:
            self.health.set(*SHIFT_EXPIRED)
        else:
            self.health.set("ok", "")
