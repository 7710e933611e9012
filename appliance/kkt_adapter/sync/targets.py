"""Delivery targets as objects: each endpoint's client, circuit breaker (and its shared state) and batch
size together, with how a batch of delivery rows becomes its request and how each row's answer is found.

``targets(cfg)`` lists both (in delivery order: the OFD first, the law's clock runs there); a target
without a URL is ``configured`` False and is skipped by the runner, but its breaker row still exists so
health and metrics always show both endpoints.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import pybreaker

from kkt_adapter.buffer import deliveries
from kkt_adapter.buffer.breaker_store import BufferBreakerStorage
from kkt_adapter.buffer.models import DELIVERY_TARGETS, Delivery, Receipt
from kkt_adapter.config import Config
from kkt_adapter.sync.breaker import make_breaker
from kkt_adapter.sync.clients import BatchResult, OdooClient, OfdClient


class Target:
    name: str

    def __init__(self, cfg: Config, client: Any | None, batch_size: int):
        self.cfg = cfg
        self.client = client
        self.batch_size = batch_size
        self.storage = BufferBreakerStorage(self.name)  # the breaker state every process on the till shares
        self.breaker: pybreaker.CircuitBreaker = make_breaker(self.name, cfg, self.storage)

    @property
    def configured(self) -> bool:
        return self.client is not None

    def cooling(self) -> bool:
        """Open and still inside the reset timeout: nothing may be sent (pybreaker would refuse anyway)."""
        if self.breaker.current_state != pybreaker.STATE_OPEN:
            return False
        opened = self.storage.opened_at
        return opened is not None and time.time() - opened.timestamp() < self.cfg.sync.breaker_reset_seconds

    def send(self, rows: list[Delivery]) -> BatchResult:
        raise NotImplementedError

    def key(self, row: Delivery) -> Any:
        """The key of ``row``'s answer in the endpoint's BatchResult."""
        raise NotImplementedError


class OfdTarget(Target):
    name = "ofd"

    def send(self, rows: list[Delivery]) -> BatchResult:
        docs = [
            {"fn_number": r.fn_number, "fd": r.fd, "doc_type": r.doc_type, "message": bytes(r.payload)}
            for r in rows
        ]
        return self.client.send(docs)

    def key(self, row: Delivery) -> tuple[str, int]:
        return (row.fn_number, row.fd)


class OdooTarget(Target):
    name = "odoo"

    def send(self, rows: list[Delivery]) -> BatchResult:
        ids = [row.receipt_id for row in rows]
        receipts, keys = deliveries.receipts_by_id(ids), deliveries.idempotency_keys(ids)
        body = [odoo_receipt(receipts[rid], keys.get(rid)) for rid in ids]
        return self.client.send(self.cfg.pos_id, body)

    def key(self, row: Delivery) -> str:
        return row.receipt_id


def targets(cfg: Config) -> list[Target]:
    ofd = OfdClient(cfg.ofd.url, cfg.ofd.timeout_seconds) if cfg.ofd.url else None
    odoo = OdooClient(cfg.odoo.url, cfg.odoo.timeout_seconds, cfg.odoo.token) if cfg.odoo.url else None
    found = [OfdTarget(cfg, ofd, cfg.ofd.batch_size), OdooTarget(cfg, odoo, cfg.odoo.batch_size)]
    assert tuple(t.name for t in found) == DELIVERY_TARGETS
    return found


def odoo_receipt(receipt: Receipt, idempotency_key: str | None = None) -> dict[str, Any]:
    """One receipt as Odoo's till contract wants it (docs/api/odoo-till-contract.md)."""
    return {
        "receipt_id": receipt.id,
        # The POS order's key (its access_token), sent as the receipt's Idempotency-Key: Odoo's join.
        "idempotency_key": idempotency_key,
        "fn_number": receipt.fn_number,
        "fd": receipt.fd_number,
        "fiscal_sign": receipt.fiscal_sign,
        # The FN records local wall time without a zone; the till's zone (Ansible sets it) makes it absolute.
        "issued_at": datetime.fromisoformat(receipt.fiscal_datetime).astimezone().isoformat(),
        "kind": receipt.kind,
        "total": receipt.total,
        # A glasses job's advance or its offset: the job (FFD 1192, null when none) and the kopecks of an
        # advance this receipt offsets (FFD 1215, 0 when none), like ``total``.
        "job_ref": receipt.job_ref,
        "prepayment": receipt.prepayment or 0,
        "original_receipt_id": receipt.original_receipt_id,
        # 31 = correction receipt; on a sale or refund it means it was fiscalized late (the KKT was down).
        "fiscal_document_type": receipt.fiscal_document_type or 3,
        "hlc": str(receipt.hlc),
        "document": json.loads(receipt.document),
    }
