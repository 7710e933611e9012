"""Everything one adapter process owns: config, buffer, the KKT driver, the fiscal service, threads.

Threads of the worker: the printer (prints journaled receipts the KKT could not take earlier), the relay
(FN documents into the buffer and OFD acks back to the FN — only this process may talk to the KKT), the
delivery loop (delivers in the background right after each print), the heartbeat to Odoo and the systemd
watchdog.

Drain (UPS on battery, ``POST /v1/kkt/drain``): refuse new receipts and device operations (503
``shutting_down``), wait for those in flight and the device lock, checkpoint the WAL, make one bounded last
delivery attempt, checkpoint again. Each step is logged as ``drain: …`` so the order can be read from the
journal. Drained is final for this process: a restart of the service ends it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kkt_adapter.buffer import db as buffer_db
from kkt_adapter.buffer import deliveries, journal, storage
from kkt_adapter.config import Config
from kkt_adapter.fiscal.fn_watch import FnWatch
from kkt_adapter.fiscal.service import FiscalService
from kkt_adapter.kkt.errors import KktError
from kkt_adapter.kkt.interface import FiscalDevice
from kkt_adapter.notify import Notifier, Watchdog, http_alive, watchdog_interval
from kkt_adapter.sync.breaker import breaker_states
from kkt_adapter.sync.clients import OdooClient
from kkt_adapter.sync.heartbeat import Heartbeat
from kkt_adapter.sync.lock import HostLock, SyncBusy
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
    )
    return ShtrihDriver(cfg.kkt.port, baudrate=cfg.kkt.baudrate, password=cfg.kkt.password, timeouts=timeouts)


def plan_state(states: dict[str, str]) -> str:
    """The owner's plan's breaker names (CLOSED | OPEN | HALF_OPEN); the worst endpoint wins."""
    values = set(states.values())
    if "open" in values:
        return "OPEN"
    if "half-open" in values:
        return "HALF_OPEN"
    return "CLOSED"


class ShuttingDown(Exception):
    """The adapter is draining for a shutdown: no new receipts or device operations (503)."""


class Runtime:
    def __init__(self, cfg: Config, device: FiscalDevice | None = None):
        from kkt_adapter.web.metrics import Metrics

        self.cfg = cfg
        self.db = buffer_db.open_database(
            cfg.buffer.path,
            cfg.buffer.busy_timeout_ms,
            cfg.buffer.wal_autocheckpoint_pages,
            cfg.buffer.reserve_bytes,
        )
        storage.accepting()  # allocate the disk-full reserve now if it is missing and the disk has room
        self.device = device or make_device(cfg)
        self.metrics = Metrics(self)
        self.service = FiscalService(cfg, self.device, on_print=self._printed)
        self.fn_watch = FnWatch(cfg.fn_watch)
        self.heartbeat: Heartbeat | None = None
        self.draining = False
        self._operations = threading.Condition()  # guards draining and _in_flight together
        self._in_flight = 0
        self._drain_lock = threading.Lock()
        self.notifier = Notifier()
        self.last_sync: dict | None = None
        self._stop = threading.Event()
        self._kick = threading.Event()  # wakes the relay loop (a print happened)
        self._deliver = threading.Event()  # wakes the delivery loop (documents captured, network back)
        self._threads: list[threading.Thread] = []

    def _printed(self, fiscal_status: str, seconds: float) -> None:
        self.metrics.printed(fiscal_status, seconds)
        if fiscal_status == "printed":
            self._kick.set()  # relay the new FN document and try to deliver, in the background

    # --- background work -----------------------------------------------------------------------

    def start_background(self) -> None:
        loops = (
            (self._printer_loop, "kkt-printer"),
            (self._relay_loop, "kkt-relay"),
            (self._delivery_loop, "kkt-delivery"),
        )
        for target, name in loops:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        if self.cfg.odoo.url:
            self.heartbeat = Heartbeat(
                self.cfg.heartbeat,
                OdooClient(self.cfg.odoo.url, self.cfg.odoo.timeout_seconds, self.cfg.odoo.token),
                self.cfg.pos_id,
                self.heartbeat_status,
                lambda: "open" in breaker_states().values(),
                self._network_changed,
            )
            self.heartbeat.start()
            self._threads.append(self.heartbeat)
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
                if self.draining:
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
            if self.draining:
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
                if deliveries.due_count() and not self.draining:
                    self.sync_now()
                    self._kick.set()  # acknowledgments may be waiting for the FN
            except SyncBusy:
                pass  # another runner (timer, admin) is delivering right now
            except Exception:
                log.exception("background delivery failed")

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
            for target in ("ofd", "odoo"):
                deliveries.kick(target)
            self._deliver.set()

    def heartbeat_status(self) -> dict:
        st = journal.buffer_status(self.cfg.buffer.capacity)
        backlog = self.fn_watch.snapshot()
        return {
            "buffer": {"queued": st.current_queued, "capacity": st.total_capacity, "dlq": st.dlq_size},
            "fn_backlog": backlog.as_dict() if backlog else None,
            "breakers": breaker_states(),
            "kkt": self.service.health.snapshot().state,
        }

    def stop(self) -> None:
        self._stop.set()
        self._kick.set()
        self._deliver.set()
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

    @contextmanager
    def operation(self) -> Iterator[None]:
        """Admit one receipt or device operation, or raise ``ShuttingDown`` once a drain has begun.

        The drain waits until every admitted operation has left, so none slips in between the check of
        ``draining`` and the device lock.
        """
        with self._operations:
            if self.draining:
                raise ShuttingDown("the till is shutting down: no new receipts")
            self._in_flight += 1
        try:
            yield
        finally:
            with self._operations:
                self._in_flight -= 1
                self._operations.notify_all()

    def drain(self) -> dict:
        """Prepare for a power cut; idempotent (a repeated call re-runs the cheap steps and reports)."""
        with self._drain_lock:
            started = time.monotonic()
            with self._operations:
                already = self.draining
                self.draining = True
            log.warning("drain: refusing new receipts%s", " (already draining)" if already else "")
            self.notifier.send("STATUS=draining for shutdown: new receipts refused")
            steps: list[dict] = [{"step": "refuse_new_receipts", "already_draining": already}]

            t0 = time.monotonic()
            completed = self._wait_in_flight(started + self.cfg.drain.in_flight_timeout_seconds)
            waited = round(time.monotonic() - t0, 3)
            steps.append({"step": "in_flight", "completed": completed, "seconds": waited})
            if completed:
                log.warning("drain: in-flight done in %.2f s", waited)
            else:
                log.error("drain: in-flight NOT done after %.2f s: going on without it", waited)

            steps.append(self._drain_checkpoint("checkpoint"))
            steps.append(self._last_sync(self.cfg.drain.sync_timeout_seconds))
            steps.append(self._drain_checkpoint("final_checkpoint"))

            done = completed and steps[-1].get("busy") == 0
            duration = round(time.monotonic() - started, 3)
            log.warning("drain: %s in %.2f s", "complete" if done else "incomplete", duration)
            return {
                "status": "drained" if done else "incomplete",
                "already_draining": already,
                "duration_seconds": duration,
                "steps": steps,
            }

    def _wait_in_flight(self, deadline: float) -> bool:
        """Admitted requests finish, then the device lock (a background print or relay) comes free."""
        with self._operations:
            if not self._operations.wait_for(
                lambda: self._in_flight == 0, timeout=max(0.0, deadline - time.monotonic())
            ):
                return False
        if not self.service.device_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return False
        self.service.device_lock.release()
        return True

    def _drain_checkpoint(self, step: str) -> dict:
        from kkt_adapter.backup import wal_bytes

        t0 = time.monotonic()
        before = wal_bytes(self.cfg.buffer.path)
        try:
            busy, _, _ = buffer_db.checkpoint("TRUNCATE")
        except Exception as exc:
            log.exception("drain: %s failed", step)
            return {"step": step, "busy": None, "error": str(exc), "seconds": round(time.monotonic() - t0, 3)}
        after = wal_bytes(self.cfg.buffer.path)
        seconds = round(time.monotonic() - t0, 3)
        log.warning(
            "drain: %s done (busy %s, WAL %d -> %d bytes, %.3f s)",
            step.replace("_", " "),
            busy,
            before,
            after,
            seconds,
        )
        return {
            "step": step,
            "busy": busy,
            "wal_bytes_before": before,
            "wal_bytes_after": after,
            "seconds": seconds,
        }

    def _last_sync(self, timeout: float) -> dict:
        """Relay the newest FN documents and deliver once, in a thread bounded by ``timeout``.

        An attempt still running at the deadline is left to finish or to be cut by the poweroff: every
        delivery is idempotent and resumes after the next boot.
        """
        outcome: dict = {"result": "timeout"}

        def attempt() -> None:
            try:
                try:
                    self.service.relay()
                except KktError as exc:
                    log.info("drain: OFD relay skipped: %s", exc)
                outcome.update(result="done", report=self.sync_now())
            except SyncBusy:
                outcome.update(result="busy", detail="another runner is delivering right now")
            except Exception as exc:  # reported in the answer and the log, never raised
                log.exception("drain: last sync attempt failed")
                outcome.update(result="failed", detail=str(exc))

        t0 = time.monotonic()
        thread = threading.Thread(target=attempt, name="kkt-drain-sync", daemon=True)
        thread.start()
        thread.join(timeout)
        seconds = round(time.monotonic() - t0, 3)
        log.warning("drain: last sync %s in %.2f s", outcome["result"], seconds)
        return {"step": "last_sync", **outcome, "seconds": seconds}

    # --- health ----------------------------------------------------------------------------------

    def alive(self) -> bool:
        # A full disk is reported (health, metrics, 507), not cured by a restart.
        with contextlib.suppress(storage.StorageFull):
            journal.probe_writable()
        return http_alive(self.cfg.http.listen, timeout=2.0, unix_socket=self.cfg.http.socket)

    def storage_report(self) -> dict:
        """The disk under the buffer: ok, or full (reserve released, new receipts get 507)."""
        reserve = storage.installed()
        if reserve is None:
            return {"status": "ok", "reserve": "off"}
        full = not storage.accepting()
        return {
            "status": "full" if full else "ok",
            "free_bytes": reserve.free_bytes(),
            "reserve_bytes": reserve.size_bytes,
            "reserve_present": reserve.present(),
            "full_events": reserve.releases,
        }

    def network_status(self) -> str:
        """online | degraded | offline from the heartbeat's hysteresis; unknown without Odoo configured."""
        return self.heartbeat.monitor.state if self.heartbeat is not None else "unknown"

    def status_line(self) -> str:
        kkt = self.service.health.snapshot()
        st = journal.buffer_status(self.cfg.buffer.capacity)
        disk = self.storage_report()
        full = disk["status"] == "full"
        return (
            (f"DISK FULL ({disk['free_bytes']} bytes free), new receipts refused; " if full else "")
            + f"KKT {kkt.state}; buffer {st.current_queued}/{st.total_capacity} ({st.percent_full:.0f}%), "
            f"not printed {st.not_printed}; network {self.network_status()}; "
            f"breaker {plan_state(breaker_states())}; DLQ {st.dlq_size}"
        )

    def health_report(self) -> dict:
        disk = self.storage_report()
        try:
            st = journal.buffer_status(self.cfg.buffer.capacity)
            buffer = {
                "status": "ok" if st.percent_full < 100 else "full",
                "writable": True,
                "current_queued": st.current_queued,
                "total_capacity": st.total_capacity,
                "percent_full": st.percent_full,
                "not_printed": st.not_printed,
                "dlq_size": st.dlq_size,
                "oldest_pending_age_seconds": st.oldest_pending_age_seconds,
            }
            if disk["status"] == "full":
                # No probe write: it would eat the room the reserve left for the receipt in flight.
                free = disk["free_bytes"]
                detail = f"disk full: {free} bytes free, new receipts get 507 storage_full"
                buffer.update(status="storage_full", writable=False, detail=detail)
            else:
                journal.probe_writable()
        except Exception as exc:  # noqa: BLE001 - report any buffer failure as unhealthy
            buffer = {"status": "error", "writable": False, "detail": str(exc)}
        kkt = self.service.health.snapshot()
        kkt_view = {
            "status": "ok" if kkt.ok else kkt.state,
            "detail": kkt.detail,
            "since": kkt.since,
            "last_ok_at": kkt.last_ok_at,
        }
        states = breaker_states()
        breaker = {
            "state": plan_state(states),
            "endpoints": {k: plan_state({k: v}) for k, v in states.items()},
        }
        network = self.network_status()
        backlog = self.fn_watch.snapshot()
        # Why the adapter is not healthy, in words an admin can act on (kktctl status prints them).
        reasons = [
            text
            for bad, text in (
                (not buffer["writable"], f"buffer not writable: {buffer.get('detail')}"),
                (buffer["status"] == "full", "buffer full: deliver the backlog"),
                (not kkt.ok, f"KKT {kkt.state}" + (f": {kkt.detail}" if kkt.detail else "")),
                (self.draining, "draining for shutdown: new receipts are refused"),
                (breaker["state"] != "CLOSED", f"circuit breaker {breaker['state']}: deliveries wait"),
                (network not in ("online", "unknown"), f"network {network}"),
                (
                    bool(backlog and backlog.warning_days is not None),
                    "FN documents unconfirmed by the OFD near the 30-day block",
                ),
            )
            if bad
        ]
        overall = "unhealthy" if not buffer["writable"] else ("degraded" if reasons else "healthy")
        return {
            "status": overall,
            "reasons": reasons,
            "draining": self.draining,
            "components": {
                "buffer": buffer,
                "kkt": kkt_view,
                "circuit_breaker": breaker,
                "network": {"status": network},
                "fn_backlog": backlog.as_dict() if backlog else {"status": "not read yet"},
                "storage": disk,
                "last_sync": self.last_sync,
            },
        }
