"""Heartbeat to Odoo every 30 s (``schedule``) and the network state with hysteresis.

``NetworkMonitor`` is a pure state machine: N failures in a row -> offline, M successes in a row ->
online, and online becomes degraded while a circuit breaker is open or the heartbeat is slow. The
server time of every answer feeds the HLC (receive event).

Every heartbeat also asks Odoo which of this till's fiscal documents it holds (``fiscal_check``) and sends
again the ones Odoo lost — the central server restored from a backup — through the ordinary delivery
(buffer/redelivery.py has the rule). A failure there is logged and never costs the heartbeat.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import schedule

from kkt_adapter import hlc
from kkt_adapter.buffer import events, redelivery
from kkt_adapter.buffer.connection import write_transaction
from kkt_adapter.config import BufferConfig, HeartbeatConfig
from kkt_adapter.sync.clients import HeartbeatAnswer, OdooClient, TransientError

log = logging.getLogger(__name__)

STATES = ("unknown", "online", "degraded", "offline")


class NetworkMonitor:
    def __init__(self, offline_after: int, online_after: int, degraded_latency_ms: float):
        self.offline_after = offline_after
        self.online_after = online_after
        self.degraded_latency_ms = degraded_latency_ms
        self.state = "unknown"
        self.failures = 0
        self.successes = 0
        self.last_latency_ms: float | None = None

    def observe(self, ok: bool, latency_ms: float | None = None, breaker_open: bool = False) -> str:
        """Feed one heartbeat outcome; returns the (possibly unchanged) state."""
        if ok:
            self.successes, self.failures = self.successes + 1, 0
            self.last_latency_ms = latency_ms
        else:
            self.failures, self.successes = self.failures + 1, 0
        connected = self.state in ("online", "degraded")
        if not connected and ok and self.successes >= self.online_after:
            connected = True
        elif connected and not ok and self.failures >= self.offline_after:
            connected = False
        elif self.state == "unknown" and not ok and self.failures >= self.offline_after:
            self.state = "offline"
        if connected:
            slow = latency_ms is not None and latency_ms > self.degraded_latency_ms
            self.state = "degraded" if (breaker_open or slow) else "online"
        elif self.state != "unknown":
            self.state = "offline"
        return self.state


class Heartbeat(threading.Thread):
    """Runs ``beat`` on a ``schedule`` scheduler until stopped.

    ``capacity`` is the buffer's (a re-delivery never fills it, buffer/redelivery.py); ``on_requeued``
    wakes the delivery loop when a heartbeat sent legs back to pending.
    """

    def __init__(
        self,
        cfg: HeartbeatConfig,
        client: OdooClient,
        pos_id: str,
        status: Callable[[], dict[str, Any]],
        breaker_open: Callable[[], bool],
        on_change: Callable[[str, str], None],
        *,
        capacity: int = BufferConfig.capacity,
        on_requeued: Callable[[], None] | None = None,
    ):
        super().__init__(name="kkt-heartbeat", daemon=True)
        self.cfg = cfg
        self.client = client
        self.pos_id = pos_id
        self.status = status
        self.breaker_open = breaker_open
        self.on_change = on_change
        self.capacity = capacity
        self.on_requeued = on_requeued
        self.monitor = NetworkMonitor(cfg.offline_after, cfg.online_after, cfg.degraded_latency_ms)
        self.scheduler = schedule.Scheduler()
        self.scheduler.every(cfg.interval_seconds).seconds.do(self.beat)
        self.stopped = threading.Event()

    def beat(self) -> str:
        previous = self.monitor.state
        checks = self._fiscal_check()
        body = {
            "pos_id": self.pos_id,
            "hlc": str(events.current_hlc()),
            "sent_at_ms": hlc.wall_clock_ms(),
            "status": self.status(),
        }
        if checks:
            body["fiscal_check"] = [check.as_json() for check in checks]
        # Legs marked delivered before this second were committed by Odoo before the request left.
        delivered_before = int(time.time())
        started = time.monotonic()
        try:
            answer = self.client.heartbeat(body)
            latency = (time.monotonic() - started) * 1000
            state = self.monitor.observe(True, latency, self.breaker_open())
            if answer.server_time_ms:
                try:
                    events.merge_remote_hlc(hlc.Timestamp(answer.server_time_ms, 0))
                except ValueError as exc:  # ClockSkewError, or a time outside the HLC range
                    log.warning("heartbeat server time ignored: %s", exc)
            self._redeliver(checks, answer, delivered_before)
        except TransientError as exc:
            state = self.monitor.observe(False, None, self.breaker_open())
            log.info("heartbeat failed: %s", exc)
        if state != previous:
            with write_transaction():
                events.add_event("network_status_changed", None, previous=previous, current=state)
            self.on_change(previous, state)
        return state

    @staticmethod
    def _fiscal_check() -> list[redelivery.FnCheck]:
        try:
            return redelivery.fiscal_check()
        except Exception:  # the buffer unreadable now: the heartbeat goes without the check
            log.exception("fiscal check for the heartbeat failed")
            return []

    def _redeliver(
        self, checks: list[redelivery.FnCheck], answer: HeartbeatAnswer, delivered_before: int
    ) -> None:
        """Send again what Odoo's answer says it lost; one WARNING line per FN that had any."""
        if not checks or not answer.fiscal_documents:
            return
        try:
            requeued = redelivery.requeue_missing(
                checks, answer.fiscal_documents, delivered_before, self.capacity
            )
        except Exception:  # a full disk, a locked buffer: the next heartbeat asks again
            log.exception("re-delivery to Odoo could not be queued")
            return
        for r in requeued:
            log.warning(
                "Odoo lost fiscal documents of FN %s (it holds up to FD %d, %d from FD %d on; this till "
                "delivered %d there): %d sent again (%d above its last FD, %d below, %d sales of refunds)",
                r.fn_number, r.holds.max_fd, r.holds.count, r.holds.from_fd, r.delivered,
                r.total, r.above, r.below, r.originals,
            )  # fmt: skip
        if requeued and self.on_requeued is not None:
            self.on_requeued()

    def run(self) -> None:
        self.beat()  # know the network state right after start
        while not self.stopped.is_set():
            self.scheduler.run_pending()
            idle = self.scheduler.idle_seconds
            self.stopped.wait(max(0.05, min(1.0, idle if idle is not None else 1.0)))
