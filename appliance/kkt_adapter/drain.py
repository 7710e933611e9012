"""``Drain``: the operation gate and the preparation for a power cut (UPS on battery, ``POST /v1/kkt/drain``).

Refuse new receipts and device operations (``ShuttingDown``, 503 ``shutting_down``), wait for those in
flight and the device lock, checkpoint the WAL, make one bounded last delivery attempt, checkpoint again.
Each step is logged as ``drain: …`` so the order can be read from the journal. Drained is final for this
process: a restart of the service ends it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kkt_adapter.backup import wal_bytes
from kkt_adapter.buffer import db as buffer_db
from kkt_adapter.config import Config
from kkt_adapter.kkt.errors import KktError
from kkt_adapter.notify import Notifier
from kkt_adapter.refusal import Refusal
from kkt_adapter.sync.lock import SyncBusy

log = logging.getLogger(__name__)


class ShuttingDown(Refusal):
    """The adapter is draining for a shutdown: no new receipts or device operations."""

    code = "shutting_down"


class Drain:
    def __init__(
        self,
        cfg: Config,
        notifier: Notifier,
        device_lock: threading.RLock,
        relay: Callable[[], object],
        sync_now: Callable[[], dict],
    ):
        self.cfg = cfg
        self.notifier = notifier
        self.device_lock = device_lock
        self.relay = relay  # FN documents into the buffer (the last ones before the cut)
        self.sync_now = sync_now  # one delivery pass
        self.draining = False
        self._operations = threading.Condition()  # guards draining and _in_flight together
        self._in_flight = 0
        self._lock = threading.Lock()

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
        with self._lock:
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

            steps.append(self._checkpoint("checkpoint"))
            steps.append(self._last_sync(self.cfg.drain.sync_timeout_seconds))
            steps.append(self._checkpoint("final_checkpoint"))

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
        if not self.device_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return False
        self.device_lock.release()
        return True

    def _checkpoint(self, step: str) -> dict:
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
                    self.relay()
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
