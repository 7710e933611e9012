"""Everything one adapter process owns: config, buffer, the KKT, the fiscal service, the background loops.

Threads of the worker: the printer, relay and delivery loops (``loops.BackgroundLoops``), the heartbeat
to Odoo and the systemd watchdog. The drain for a power cut is ``drain.Drain``; what the till reports
about itself is ``status.TillStatus``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from kkt_adapter.buffer import db as buffer_db
from kkt_adapter.buffer import deliveries, journal, storage
from kkt_adapter.buffer.models import DELIVERY_TARGETS
from kkt_adapter.config import Config
from kkt_adapter.drain import Drain
from kkt_adapter.fiscal.document import type_stored_receipts
from kkt_adapter.fiscal.fn_watch import FnWatch
from kkt_adapter.fiscal.service import FiscalService
from kkt_adapter.kkt.interface import FiscalDevice
from kkt_adapter.loops import BackgroundLoops
from kkt_adapter.notify import Notifier, Watchdog, http_alive, watchdog_interval
from kkt_adapter.status import TillStatus
from kkt_adapter.sync.breaker import breaker_states
from kkt_adapter.sync.clients import OdooClient
from kkt_adapter.sync.heartbeat import Heartbeat
from kkt_adapter.sync.lock import HostLock
from kkt_adapter.sync.runner import SyncRunner

log = logging.getLogger(__name__)


def make_device(cfg: Config) -> FiscalDevice:
    from kkt_adapter.kkt.shtrih_driver import ShtrihDriver
    from kkt_adapter.kkt.types import Timeouts

    timeouts = Timeouts(
        enq=cfg.kkt.enq_timeout,
        ack=cfg.kkt.ack_timeout,
        answer=cfg.kkt.answer_timeout,
        attempts=cfg.kkt.attempts,
        print_wait=cfg.kkt.print_wait_seconds,
    )
    return ShtrihDriver(cfg.kkt.port, baudrate=cfg.kkt.baudrate, password=cfg.kkt.password, timeouts=timeouts)


class Runtime:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.db = buffer_db.open_database(
            cfg.buffer.path,
            cfg.buffer.busy_timeout_ms,
            cfg.buffer.wal_autocheckpoint_pages,
            cfg.buffer.reserve_bytes,
        )
        storage.accepting()  # allocate the disk-full reserve now if it is missing and the disk has room
        type_stored_receipts(cfg.receipt)  # receipts journaled before schema v3 get their typed columns
        self.device = make_device(cfg)
        # Called with (fiscal_status, seconds) after every print; the web layer's metrics subscribe here
        # (the runtime never imports the layer above it).
        self.print_observers: list[Callable[[str, float], None]] = []
        self.service = FiscalService(cfg, self.device, on_print=self._printed)
        self.fn_watch = FnWatch(cfg.fn_watch)
        self.heartbeat: Heartbeat | None = None
        self.notifier = Notifier()
        self.last_sync: dict | None = None
        self.drainer = Drain(cfg, self.notifier, self.service.device_lock, self.service.relay, self.sync_now)
        self.status = TillStatus(
            cfg.buffer.capacity,
            self.service.health,
            self.fn_watch,
            self.network_status,
            lambda: self.drainer.draining,
            lambda: self.last_sync,
        )
        self.loops = BackgroundLoops(
            cfg, self.service, self.fn_watch, lambda: self.drainer.draining, self.sync_now
        )
        self._threads: list[threading.Thread] = []

    def _printed(self, fiscal_status: str, seconds: float) -> None:
        for observer in self.print_observers:
            observer(fiscal_status, seconds)
        if fiscal_status == "printed":
            self.loops.kick()  # relay the new FN document and try to deliver, in the background

    # --- background work -----------------------------------------------------------------------

    def start_background(self) -> None:
        self._threads.extend(self.loops.start())
        if self.cfg.odoo.url:
            self.heartbeat = Heartbeat(
                self.cfg.heartbeat,
                OdooClient(self.cfg.odoo.url, self.cfg.odoo.timeout_seconds, self.cfg.odoo.token),
                self.cfg.pos_id,
                self.status.heartbeat_payload,
                lambda: "open" in breaker_states().values(),
                self._network_changed,
                capacity=self.cfg.buffer.capacity,
                on_requeued=self.loops.deliver_now,  # Odoo lost receipts: send them again at once
            )
            self.heartbeat.start()
            self._threads.append(self.heartbeat)
        interval = watchdog_interval()
        if interval:
            dog = Watchdog(self.notifier, interval, self.alive, self.status.status_line)
            dog.start()
            self._threads.append(dog)
        self.notifier.send("READY=1", f"STATUS={self.status.status_line()}")

    def sync_now(self, lock: HostLock | None = None) -> dict:
        """One delivery pass (``SyncBusy`` when another runner holds the host lock)."""
        report = SyncRunner(self.cfg).run(lock=lock).as_dict()
        self.last_sync = report
        return report

    def start_sync(self) -> None:
        """Admin API: take the host lock now (``SyncBusy`` -> 409), deliver in a background thread."""
        lock = HostLock(self.cfg.sync.lock_path).acquire()

        def work() -> None:
            try:
                self.sync_now(lock=lock)
            except Exception:
                log.exception("sync requested through the API failed")
            finally:
                lock.release()

        threading.Thread(target=work, name="kkt-sync-api", daemon=True).start()

    def _network_changed(self, previous: str, current: str) -> None:
        log.warning("network %s -> %s", previous, current)
        if current in ("online", "degraded"):
            for target in DELIVERY_TARGETS:
                deliveries.kick(target)
            self.loops.deliver_now()

    def stop(self) -> None:
        self.loops.stop()
        if self.heartbeat is not None:
            self.heartbeat.stopped.set()
        for dog in self._threads:
            if isinstance(dog, Watchdog):
                dog.stopped.set()
        self.notifier.send("STOPPING=1")

    def shutdown(self) -> None:
        """Graceful end of the process: threads stopped, the port released, the WAL checkpointed."""
        self.stop()
        with self.service.device_lock:  # a print in flight finishes first
            self.device.close()
        try:
            busy, _, _ = buffer_db.checkpoint("TRUNCATE")
            if busy:
                log.warning("WAL checkpoint at shutdown was blocked by another connection")
        except Exception:
            log.exception("WAL checkpoint at shutdown failed")

    # --- drain (UPS shutdown) -------------------------------------------------------------------

    @property
    def draining(self) -> bool:
        return self.drainer.draining

    def operation(self) -> contextlib.AbstractContextManager[None]:
        """Admit one receipt or device operation (``ShuttingDown`` once a drain has begun)."""
        return self.drainer.operation()

    def drain(self) -> dict:
        return self.drainer.drain()

    # --- health ----------------------------------------------------------------------------------

    def alive(self) -> bool:
        # A full disk is reported (health, metrics, 507), not cured by a restart.
        with contextlib.suppress(storage.StorageFull):
            journal.probe_writable()
        return http_alive(self.cfg.http.listen, timeout=2.0, unix_socket=self.cfg.http.socket)

    def network_status(self) -> str:
        """online | degraded | offline from the heartbeat's hysteresis; unknown without Odoo configured."""
        return self.heartbeat.monitor.state if self.heartbeat is not None else "unknown"

    def status_line(self) -> str:
        return self.status.status_line()

    def health_report(self) -> dict:
        return self.status.health_report()
