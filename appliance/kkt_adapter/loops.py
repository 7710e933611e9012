"""``BackgroundLoops``: the adapter's three worker threads besides the heartbeat and the watchdog.

- printer: reconciles doubts left by a crash, then keeps printing what the KKT could not take earlier;
- relay: FN documents into the buffer, OFD acks back to the FN, the FN backlog (only this process may
  talk to the KKT); its own thread, so a slow delivery pass never delays capture or acknowledgments;
- delivery: delivers right after each print, when the network comes back and every
  ``sync.relay_interval_seconds`` (the systemd timer's ``kktctl sync`` is the safety net).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kkt_adapter.buffer import deliveries, storage
from kkt_adapter.config import Config
from kkt_adapter.fiscal.fn_watch import FnWatch
from kkt_adapter.fiscal.service import FiscalService
from kkt_adapter.kkt.errors import KktError
from kkt_adapter.sync.lock import SyncBusy

log = logging.getLogger(__name__)


class BackgroundLoops:
    def __init__(
        self,
        cfg: Config,
        service: FiscalService,
        fn_watch: FnWatch,
        draining: Callable[[], bool],
        sync_now: Callable[[], dict],
    ):
        self.cfg = cfg
        self.service = service
        self.fn_watch = fn_watch
        self.draining = draining
        self.sync_now = sync_now
        self._stop = threading.Event()
        self._kick = threading.Event()  # wakes the relay loop (a print happened)
        self._deliver = threading.Event()  # wakes the delivery loop (documents captured, network back)

    def start(self) -> list[threading.Thread]:
        threads = []
        for target, name in (
            (self._printer_loop, "kkt-printer"),
            (self._relay_loop, "kkt-relay"),
            (self._delivery_loop, "kkt-delivery"),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            threads.append(thread)
        return threads

    def kick(self) -> None:
        """A receipt was printed: relay its FN document and deliver, in the background."""
        self._kick.set()

    def deliver_now(self) -> None:
        """The network came back: deliver without waiting for the next round."""
        self._deliver.set()

    def stop(self) -> None:
        self._stop.set()
        self._kick.set()
        self._deliver.set()

    def _printer_loop(self) -> None:
        """Reconcile doubts left by a crash, then keep printing what the KKT could not take earlier."""
        while not self._stop.is_set():
            try:
                self.service.probe()
                if self.draining():
                    pass  # a shutdown is coming: start no print the power cut could interrupt
                elif not storage.accepting():
                    pass  # disk full: sign nothing the journal may not take; printed once space returns
                elif self.service.health.snapshot().ok and self.service.print_waiting():
                    self._kick.set()
            except Exception:
                log.exception("background printer round failed")
            self._stop.wait(self.cfg.kkt.retry_interval_seconds)

    def _relay_loop(self) -> None:
        """Relay FN documents into the buffer and OFD acks back to the FN; refresh the FN backlog.

        Its own thread, so a slow delivery pass on a bad link never delays capture or acknowledgments.
        Wakes right after each print and every ``sync.relay_interval_seconds``; wakes the delivery loop.
        """
        next_watch = 0.0
        while not self._stop.is_set():
            self._kick.wait(self.cfg.sync.relay_interval_seconds)
            self._kick.clear()
            if self._stop.is_set():
                break
            if self.draining():
                continue  # the drain made the last relay and delivery attempt itself
            try:
                # Without an OFD there is nobody to carry FN documents to: leave the KKT alone (capture
                # catches up from the FN's own queue once an OFD is configured).
                if self.cfg.ofd.url and self.service.relay()["captured"]:
                    self._deliver.set()
                if time.monotonic() >= next_watch:
                    self.fn_watch.update(self.service.fn_backlog(), self.cfg.pos_id)
                    next_watch = time.monotonic() + self.cfg.fn_watch.interval_seconds
            except KktError as exc:
                log.info("OFD relay skipped: %s", exc)
            except Exception:
                log.exception("OFD relay round failed")

    def _delivery_loop(self) -> None:
        """Deliver what is due, in the background (the cashier's answer never waits for it).

        Wakes when the relay captured new documents, when the network comes back, and every
        ``sync.relay_interval_seconds``. The systemd timer's ``kktctl sync`` is the safety net.
        """
        while not self._stop.is_set():
            self._deliver.wait(self.cfg.sync.relay_interval_seconds)
            self._deliver.clear()
            if self._stop.is_set():
                break
            try:
                if deliveries.due_count() and not self.draining():
                    self.sync_now()
                    self._kick.set()  # acknowledgments may be waiting for the FN
            except SyncBusy:
                pass  # another runner (timer, admin) is delivering right now
            except Exception:
                log.exception("background delivery failed")
