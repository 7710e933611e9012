"""The sync runner: delivers leased documents in HLC order, in batches, through the circuit breakers.

Started by the systemd timer (``kktctl sync``), by the admin API and right after each print (best effort,
in the background). Exactly one runs at a time per till (``HostLock``); the others get ``SyncBusy``.
Transient failures back off with jitter and are retried until delivered; permanent rejections go to the
DLQ with the reason. Rows of a runner killed mid-batch return to pending when their lease expires.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pybreaker

from kkt_adapter import hlc
from kkt_adapter.buffer import deliveries, events
from kkt_adapter.buffer.connection import write_transaction
from kkt_adapter.buffer.models import Delivery
from kkt_adapter.config import Config
from kkt_adapter.sync import backoff
from kkt_adapter.sync.clients import BatchResult, PermanentError, TransientError
from kkt_adapter.sync.lock import HostLock
from kkt_adapter.sync.targets import Target, targets

log = logging.getLogger(__name__)

#: Histogram buckets of kkt_sync_duration_seconds (a run is usually well under a second).
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


@dataclass
class TargetReport:
    delivered: int = 0
    retried: int = 0
    dead_lettered: int = 0
    breaker: str = "closed"
    skipped: str | None = None  # why the target was not (fully) attempted


@dataclass
class SyncReport:
    owner: str
    leases_expired: int = 0
    targets: dict[str, TargetReport] = field(default_factory=dict)
    duration_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "leases_expired": self.leases_expired,
            "duration_seconds": round(self.duration_seconds, 3),
            "targets": {k: v.__dict__ for k, v in self.targets.items()},
        }


def record_duration(seconds: float) -> None:
    for le in DURATION_BUCKETS:
        if seconds <= le:
            deliveries.add_counter("kkt_sync_duration_seconds_bucket", f"le={le}")
    deliveries.add_counter("kkt_sync_duration_seconds_bucket", "le=+Inf")
    deliveries.add_counter("kkt_sync_duration_seconds_sum", "", seconds)
    deliveries.add_counter("kkt_sync_duration_seconds_count", "")


class SyncRunner:
    def __init__(self, cfg: Config, *, rng: random.Random | None = None):
        self.cfg = cfg
        self.rng = rng or random.Random()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.targets = targets(cfg)

    def run(self, lock: HostLock | None = None) -> SyncReport:
        """Take the host lock (``SyncBusy`` if taken) unless the caller already holds it, then deliver."""
        if lock is not None:
            return self._run()
        with HostLock(self.cfg.sync.lock_path):
            return self._run()

    def _run(self) -> SyncReport:
        started = time.monotonic()
        report = SyncReport(self.owner)
        configured = [t for t in self.targets if t.configured]
        if configured and all(t.cooling() for t in configured):
            # Every endpoint's circuit is open and cooling: nothing may be sent, so nothing is journaled
            # (a long outage must not fill the buffer with empty sync runs).
            for target in self.targets:
                report.targets[target.name] = TargetReport(
                    breaker=pybreaker.STATE_OPEN, skipped="circuit open"
                )
            return report
        with write_transaction():
            events.add_event("sync_started", None, owner=self.owner)
        report.leases_expired = deliveries.reclaim_leases()  # the host lock is held here
        for target in self.targets:
            tr = report.targets[target.name] = TargetReport()
            if not target.configured:
                tr.skipped = "endpoint not configured"
                continue
            if target.cooling():
                tr.skipped = "circuit open"
                tr.breaker = pybreaker.STATE_OPEN
                continue
            while True:
                rows = deliveries.lease(
                    target.name, self.owner, target.batch_size, self.cfg.sync.lease_seconds
                )
                if not rows:
                    break
                if not self._deliver(target, rows, tr):
                    break
            tr.breaker = target.breaker.current_state
        report.duration_seconds = time.monotonic() - started
        with write_transaction():
            events.add_event("sync_completed", None, **report.as_dict())
            record_duration(report.duration_seconds)
        return report

    # --- one batch ---------------------------------------------------------------------------------

    def _retry_at(self, row: Delivery) -> float:
        sync = self.cfg.sync
        return time.time() + backoff.delay(
            row.attempts + 1, sync.backoff_base_seconds, sync.backoff_max_seconds, self.rng
        )

    def _deliver(self, target: Target, rows: list[Delivery], tr: TargetReport) -> bool:
        """Deliver one leased batch; False stops this target for this run (endpoint unhealthy)."""
        before = target.breaker.current_state
        try:
            result: BatchResult = target.breaker.call(target.send, rows)
        except pybreaker.CircuitBreakerError:
            deliveries.release([r.id for r in rows], self.owner)
            tr.skipped = "circuit open"
            return False
        except TransientError as exc:
            for row in rows:
                deliveries.failed_transient(row.id, self.owner, str(exc), self._retry_at(row))
            tr.retried += len(rows)
            tr.skipped = f"transient failure: {exc}"
            return False
        except PermanentError as exc:
            for row in rows:
                deliveries.failed_permanent(row.id, self.owner, str(exc))
            tr.dead_lettered += len(rows)
            return True
        for row in rows:
            item = result.items.get(target.key(row))
            if item is None:
                deliveries.failed_transient(
                    row.id, self.owner, "no result for this document", self._retry_at(row)
                )
                tr.retried += 1
            elif item.ok:
                deliveries.delivered(row.id, self.owner, ack=item.ack, server_time_ms=result.server_time_ms)
                tr.delivered += 1
            else:
                deliveries.failed_permanent(row.id, self.owner, item.reason or "rejected")
                tr.dead_lettered += 1
        if result.server_time_ms:
            try:
                events.merge_remote_hlc(hlc.Timestamp(int(result.server_time_ms), 0))
            except ValueError as exc:  # ClockSkewError, or a time outside the HLC range
                log.warning("server time ignored: %s", exc)
        if before != pybreaker.STATE_CLOSED:
            deliveries.kick(target.name)  # the endpoint is back: everything waiting is due now
        return True
