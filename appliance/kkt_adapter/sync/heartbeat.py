"""Heartbeat to Odoo every 30 s (``schedule``) and the network state with hysteresis.

``NetworkMonitor`` is a pure state machine: N failures in a row -> offline, M successes in a row ->
online, and online becomes degraded while a circuit breaker is open or the heartbeat is slow. The
server time of every answer feeds the HLC (receive event).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import schedule

from kkt_adapter import hlc
from kkt_adapter.buffer import events
from kkt_adapter.buffer.connection import write_transaction
from kkt_adapter.config import HeartbeatConfig
from kkt_adapter.sync.clients import OdooClient, TransientError

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
    """Runs ``beat`` on a ``schedule`` scheduler until stopped."""

    def __init__(
        self,
        cfg: HeartbeatConfig,
        client: OdooClient,
        pos_id: str,
        status: Callable[[], dict[str, Any]],
        breaker_open: Callable[[], bool],
        on_change: Callable[[str, str], None],
    ):
        super().__init__(name="kkt-heartbeat", daemon=True)
        self.cfg = cfg
        self.client = client
        self.pos_id = pos_id
        self.status = status
        self.breaker_open = breaker_open
        self.on_change = on_change
        self.monitor = NetworkMonitor(cfg.offline_after, cfg.online_after, cfg.degraded_latency_ms)
        self.scheduler = schedule.Scheduler()
        self.scheduler.every(cfg.interval_seconds).seconds.do(self.beat)
        self.stopped = threading.Event()

    def beat(self) -> str:
        previous = self.monitor.state
        body = {
            "pos_id": self.pos_id,
            "hlc": str(events.current_hlc()),
            "sent_at_ms": hlc.wall_clock_ms(),
            "status": self.status(),
        }
        started = time.monotonic()
        try:
            server_ms = self.client.heartbeat(body)
            latency = (time.monotonic() - started) * 1000
            state = self.monitor.observe(True, latency, self.breaker_open())
            if server_ms:
                try:
                    events.merge_remote_hlc(hlc.Timestamp(server_ms, 0))
                except ValueError as exc:  # ClockSkewError, or a time outside the HLC range
                    log.warning("heartbeat server time ignored: %s", exc)
        except TransientError as exc:
            state = self.monitor.observe(False, None, self.breaker_open())
            log.info("heartbeat failed: %s", exc)
        if state != previous:
            with write_transaction():
                events.add_event("network_status_changed", None, previous=previous, current=state)
            self.on_change(previous, state)
        return state

    def run(self) -> None:
        self.beat()  # know the network state right after start
        while not self.stopped.is_set():
            self.scheduler.run_pending()
            idle = self.scheduler.idle_seconds
            self.stopped.wait(max(0.05, min(1.0, idle if idle is not None else 1.0)))
