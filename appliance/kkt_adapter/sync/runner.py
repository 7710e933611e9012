"""The sync runner: delivers leased documents in HLC order, in batches, through the circuit breakers.

Started by the systemd timer (``kktctl sync``), by the admin API and right after each print (best effort,
in the background). Exactly one runs at a time per till (``HostLock``); the others get ``SyncBusy``.
Transient failures back off with jitter and are retried until delivered; permanent rejections go to the
DLQ with the reason. Rows of a runner killed mid-batch return to pending when their lease expires.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pybreaker

from kkt_adapter import hlc
from kkt_adapter.buffer import deliveries, events
from kkt_adapter.buffer.connection import write_transaction
from kkt_adapter.buffer.models import Delivery, Receipt
from kkt_adapter.config import Config
from kkt_adapter.sync import backoff
from kkt_adapter.sync.breaker import make_breaker
from kkt_adapter.sync.clients import BatchResult, OdooClient, OfdClient, PermanentError, TransientError
from kkt_adapter.sync.lock import HostLock

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
        self.clients: dict[str, Any] = {}
        if cfg.ofd.url:
            self.clients["ofd"] = OfdClient(cfg.ofd.url, cfg.ofd.timeout_seconds)
        if cfg.odoo.url:
            self.clients["odoo"] = OdooClient(cfg.odoo.url, cfg.odoo.timeout_seconds, cfg.odoo.token)
        self.breakers = {name: make_breaker(name, cfg) for name in ("ofd", "odoo")}

    def run(self, lock: HostLock | None = None) -> SyncReport:
        """Take the host lock (``SyncBusy`` if taken) unless the caller already holds it, then deliver."""
        if lock is not None:
            return self._run()
        with HostLock(self.cfg.sync.lock_path):
            return self._run()

    def _run(self) -> SyncReport:
        started = time.monotonic()
        report = SyncReport(self.owner)
        if self.clients and all(self._cooling(t) for t in self.clients):
            # Every endpoint's circuit is open and cooling: nothing may be sent, so nothing is journaled
            # (a long outage must not fill the buffer with empty sync runs).
            for target in ("ofd", "odoo"):
                report.targets[target] = TargetReport(breaker=pybreaker.STATE_OPEN, skipped="circuit open")
            return report
        with write_transaction():
            events.add_event("sync_started", None, owner=self.owner)
        report.leases_expired = deliveries.expire_leases()
        for target in ("ofd", "odoo"):
            tr = report.targets[target] = TargetReport()
            if target not in self.clients:
                tr.skipped = "endpoint not configured"
                continue
            if self._cooling(target):
                tr.skipped = "circuit open"
                tr.breaker = pybreaker.STATE_OPEN
                continue
            batch = self.cfg.ofd.batch_size if target == "ofd" else self.cfg.odoo.batch_size
            while True:
                rows = deliveries.lease(target, self.owner, batch, self.cfg.sync.lease_seconds)
                if not rows:
                    break
                if not self._deliver(target, rows, tr):
                    break
            tr.breaker = self.breakers[target].current_state
        report.duration_seconds = time.monotonic() - started
        with write_transaction():
            events.add_event("sync_completed", None, **report.as_dict())
            record_duration(report.duration_seconds)
        return report

    def _cooling(self, target: str) -> bool:
        """Open and still inside the reset timeout: nothing may be sent (pybreaker would refuse anyway)."""
        breaker = self.breakers[target]
        if breaker.current_state != pybreaker.STATE_OPEN:
            return False
        opened = breaker._state_storage.opened_at
        return opened is not None and time.time() - opened.timestamp() < self.cfg.sync.breaker_reset_seconds

    # --- one batch ---------------------------------------------------------------------------------

    def _deliver(self, target: str, rows: list[Delivery], tr: TargetReport) -> bool:
        """Deliver one leased batch; False stops this target for this run (endpoint unhealthy)."""
        breaker = self.breakers[target]
        before = breaker.current_state
        try:
            result: BatchResult = breaker.call(self._send, target, rows)
        except pybreaker.CircuitBreakerError:
            deliveries.release([r.id for r in rows], self.owner)
            tr.skipped = "circuit open"
            return False
        except TransientError as exc:
            now = time.time()
            for row in rows:
                wait = backoff.delay(
                    row.attempts + 1,
                    self.cfg.sync.backoff_base_seconds,
                    self.cfg.sync.backoff_max_seconds,
                    self.rng,
                )
                deliveries.failed_transient(row.id, self.owner, str(exc), now + wait)
            tr.retried += len(rows)
            tr.skipped = f"transient failure: {exc}"
            return False
        except PermanentError as exc:
            for row in rows:
                deliveries.failed_permanent(row.id, self.owner, str(exc))
            tr.dead_lettered += len(rows)
            return True
        for row in rows:
            key = (row.fn_number, row.fd) if target == "ofd" else row.receipt_id
            item = result.items.get(key)
            if item is None:
                retry_at = time.time() + backoff.delay(
                    row.attempts + 1,
                    self.cfg.sync.backoff_base_seconds,
                    self.cfg.sync.backoff_max_seconds,
                    self.rng,
                )
                deliveries.failed_transient(row.id, self.owner, "no result for this document", retry_at)
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
            deliveries.kick(target)  # the endpoint is back: everything waiting is due now
        return True

    def _send(self, target: str, rows: list[Delivery]) -> BatchResult:
        if target == "ofd":
            docs = [
                {"fn_number": r.fn_number, "fd": r.fd, "doc_type": r.doc_type, "message": bytes(r.payload)}
                for r in rows
            ]
            return self.clients["ofd"].send(docs)
        receipts = deliveries.receipts_by_id([row.receipt_id for row in rows])
        payload = [_odoo_receipt(receipts[row.receipt_id]) for row in rows]
        return self.clients["odoo"].send(self.cfg.pos_id, payload)


def _odoo_receipt(receipt: Receipt) -> dict[str, Any]:
    doc = json.loads(receipt.fiscal_doc)
    return {
        "receipt_id": receipt.id,
        "fn_number": receipt.fn_number,
        "fd": receipt.fd_number,
        "fiscal_sign": receipt.fiscal_sign,
        # The FN records local wall time without a zone; the till's zone (Ansible sets it) makes it absolute.
        "issued_at": datetime.fromisoformat(receipt.fiscal_datetime).astimezone().isoformat(),
        "kind": receipt.kind,
        "total": receipt.total,
        "original_receipt_id": receipt.original_receipt_id,
        # 31 = correction receipt; on a sale or refund it means it was fiscalized late (the KKT was down).
        "fiscal_document_type": doc.get("fiscal", {}).get("document_type", 3),
        "hlc": f"{receipt.hlc_local_time:015d}.{receipt.hlc_logical_counter:05d}",
        "document": doc.get("request", {}),
    }
