"""Everything one adapter process owns: config, buffer, the KKT driver, the fiscal service, threads."""

from __future__ import annotations

import logging
import threading

from kkt_adapter.buffer import db as buffer_db
from kkt_adapter.buffer import journal
from kkt_adapter.config import Config
from kkt_adapter.fiscal.service import FiscalService
from kkt_adapter.kkt.interface import FiscalDevice
from kkt_adapter.notify import Notifier, Watchdog, http_alive, watchdog_interval

log = logging.getLogger(__name__)


def make_device(cfg: Config) -> FiscalDevice:
    from kkt_adapter.kkt.shtrih_driver import ShtrihDriver
    from kkt_adapter.kkt.types import Timeouts

    timeouts = Timeouts(
        enq=cfg.kkt.enq_timeout,
        ack=cfg.kkt.ack_timeout,
        answer=cfg.kkt.answer_timeout,
        attempts=cfg.kkt.attempts,
    )
    return ShtrihDriver(cfg.kkt.port, baudrate=cfg.kkt.baudrate, password=cfg.kkt.password, timeouts=timeouts)


class Runtime:
    def __init__(self, cfg: Config, device: FiscalDevice | None = None):
        from kkt_adapter.web.metrics import Metrics

        self.cfg = cfg
        self.db = buffer_db.open_database(
            cfg.buffer.path, cfg.buffer.busy_timeout_ms, cfg.buffer.wal_autocheckpoint_pages
        )
        self.device = device or make_device(cfg)
        self.metrics = Metrics(self)
        self.service = FiscalService(cfg, self.device, on_print=self.metrics.printed)
        self.draining = False
        self.notifier = Notifier()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- background work -----------------------------------------------------------------------

    def start_background(self) -> None:
        printer = threading.Thread(target=self._printer_loop, name="kkt-printer", daemon=True)
        printer.start()
        self._threads.append(printer)
        interval = watchdog_interval()
        if interval:
            dog = Watchdog(self.notifier, interval, self.alive, self.status_line)
            dog.start()
            self._threads.append(dog)
        self.notifier.send("READY=1", f"STATUS={self.status_line()}")

    def _printer_loop(self) -> None:
        """Reconcile doubts left by a crash, then keep printing what the KKT could not take earlier."""
        while not self._stop.is_set():
            try:
                self.service.probe()
                if self.service.health.snapshot().ok:
                    self.service.print_waiting()
            except Exception:
                log.exception("background printer round failed")
            self._stop.wait(self.cfg.kkt.retry_interval_seconds)

    def stop(self) -> None:
        self._stop.set()
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

    # --- health ----------------------------------------------------------------------------------

    def alive(self) -> bool:
        journal.probe_writable()
        return http_alive(self.cfg.http.listen, timeout=2.0)

    def network_status(self) -> str:
        # The heartbeat to Odoo (delivery work) decides online/offline/degraded; until it runs: unknown.
        return "unknown"

    def status_line(self) -> str:
        kkt = self.service.health.snapshot()
        st = journal.buffer_status(self.cfg.buffer.capacity)
        return (
            f"KKT {kkt.state}; buffer {st.current_queued}/{st.total_capacity} ({st.percent_full:.0f}%), "
            f"not printed {st.not_printed}"
        )

    def health_report(self) -> dict:
        try:
            journal.probe_writable()
            st = journal.buffer_status(self.cfg.buffer.capacity)
            buffer = {
                "status": "ok" if st.percent_full < 100 else "full",
                "writable": True,
                "current_queued": st.current_queued,
                "total_capacity": st.total_capacity,
                "percent_full": st.percent_full,
                "not_printed": st.not_printed,
                "oldest_pending_age_seconds": st.oldest_pending_age_seconds,
            }
        except Exception as exc:  # noqa: BLE001 - report any buffer failure as unhealthy
            buffer = {"status": "error", "writable": False, "detail": str(exc)}
        kkt = self.service.health.snapshot()
        kkt_view = {
            "status": "ok" if kkt.ok else kkt.state,
            "detail": kkt.detail,
            "since": kkt.since,
            "last_ok_at": kkt.last_ok_at,
        }
        if not buffer["writable"]:
            overall = "unhealthy"
        elif kkt.ok and buffer["status"] == "ok" and not self.draining:
            overall = "healthy"
        else:
            overall = "degraded"
        return {
            "status": overall,
            "draining": self.draining,
            "components": {"buffer": buffer, "kkt": kkt_view},
        }
