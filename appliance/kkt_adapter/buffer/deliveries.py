"""Phase 2 journal operations: delivery rows, leases, backoff bookkeeping, acknowledgments, the DLQ.

Every change of a delivery and the receipt status it implies commit together with their events, in one
IMMEDIATE transaction, so the adapter, the sync runner and kktctl can work on the buffer at the same time.
A receipt is ``synced`` when both its legs are delivered: its FN document to the OFD and the receipt to
Odoo; ``failed`` while any leg sits in the DLQ; ``syncing`` while a runner holds a lease on a leg.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from kkt_adapter.buffer.connection import write_transaction
from kkt_adapter.buffer.events import add_event, next_hlc
from kkt_adapter.buffer.models import Counter, Delivery, Dlq, IdempotencyKey, Receipt
from kkt_adapter.refusal import Refusal

RECEIPT_DOC_TYPES = (3, 31)  # FFD: receipt, correction receipt


# --- creating deliveries ----------------------------------------------------------------------------


def enqueue_odoo(receipt: Receipt, fn_number: str, fd: int, document_type: int) -> None:
    """Queue a printed receipt for Odoo; call inside the transaction that marks it printed."""
    Delivery.insert(
        target="odoo",
        fn_number=fn_number,
        fd=fd,
        doc_type=document_type,
        receipt=receipt.id,
        hlc=str(receipt.hlc),
        created_at=int(time.time()),
    ).on_conflict_ignore().execute()


def known_ofd_fds(fn_number: str) -> set[int]:
    rows = Delivery.select(Delivery.fd).where(Delivery.target == "ofd", Delivery.fn_number == fn_number)
    return {row.fd for row in rows}


def capture_fn_document(fn_number: str, fd: int, doc_type: int, payload: bytes) -> bool:
    """Store an FN document read from the KKT for the OFD; False when it was captured before."""
    with write_transaction():
        if (
            Delivery.select()
            .where(Delivery.target == "ofd", Delivery.fn_number == fn_number, Delivery.fd == fd)
            .exists()
        ):
            return False
        receipt = Receipt.get_or_none(Receipt.fn_number == fn_number, Receipt.fd_number == fd)
        Delivery.create(
            target="ofd",
            fn_number=fn_number,
            fd=fd,
            doc_type=doc_type,
            receipt=receipt.id if receipt else None,
            payload=payload,
            hlc=str(receipt.hlc) if receipt else str(next_hlc()),
            created_at=int(time.time()),
        )
        add_event(
            "fn_document_captured",
            receipt.id if receipt else None,
            fn_number=fn_number,
            fd=fd,
            doc_type=doc_type,
        )
        return True


def link_receipt_documents(receipt_id: str, fn_number: str, fd: int) -> None:
    """Attach an FN document captured before its receipt row learnt its FD (reconciliation case)."""
    Delivery.update(receipt=receipt_id).where(
        Delivery.target == "ofd",
        Delivery.fn_number == fn_number,
        Delivery.fd == fd,
        Delivery.receipt.is_null(),
    ).execute()


# --- leases -----------------------------------------------------------------------------------------


def reclaim_leases() -> int:
    """Every leg still ``syncing`` returns to pending; the number reclaimed.

    Only a runner holding the host lock calls this, and runners lease only while holding it: a leg found
    ``syncing`` then belongs to a runner that died mid-batch (kill -9, power loss, the adapter restarted),
    so it is delivered now rather than after its lease (``lease_until``) runs out.
    """
    with write_transaction():
        stale = list(Delivery.select().where(Delivery.status == "syncing"))
        for row in stale:
            Delivery.update(status="pending", lease_owner=None, lease_until=None).where(
                Delivery.id == row.id
            ).execute()
            add_event("lease_expired", row.receipt_id, target=row.target, fd=row.fd, owner=row.lease_owner)
            refresh_receipt(row.receipt_id)
        return len(stale)


def lease(
    target: str, owner: str, limit: int, lease_seconds: float, now: float | None = None
) -> list[Delivery]:
    """Take up to ``limit`` due deliveries of ``target`` in HLC order; they are ``syncing`` until released."""
    now = time.time() if now is None else now
    with write_transaction():
        rows = list(
            Delivery.select()
            .where(Delivery.target == target, Delivery.status == "pending", Delivery.next_attempt_at <= now)
            .order_by(Delivery.hlc, Delivery.id)
            .limit(limit)
        )
        if rows:
            ids = [r.id for r in rows]
            Delivery.update(status="syncing", lease_owner=owner, lease_until=now + lease_seconds).where(
                Delivery.id.in_(ids)
            ).execute()
            for receipt_id in {r.receipt_id for r in rows if r.receipt_id}:
                refresh_receipt(receipt_id)
        return rows


def release(ids: Iterable[int], owner: str) -> None:
    """Give leased rows back untouched (e.g. the circuit is open): no attempt is counted."""
    ids = list(ids)
    with write_transaction():
        rows = list(Delivery.select().where(Delivery.id.in_(ids), Delivery.lease_owner == owner))
        Delivery.update(status="pending", lease_owner=None, lease_until=None).where(
            Delivery.id.in_([r.id for r in rows])
        ).execute()
        for receipt_id in {r.receipt_id for r in rows if r.receipt_id}:
            refresh_receipt(receipt_id)


def receipts_by_id(ids: Iterable[str]) -> dict[str, Receipt]:
    return {r.id: r for r in Receipt.select().where(Receipt.id.in_(list(ids)))}


def idempotency_keys(ids: Iterable[str]) -> dict[str, str]:
    """Receipt id -> the ``Idempotency-Key`` it was submitted under (the POS order's key: Odoo joins the
    fiscal document to its ``pos.order`` by it). One query for a whole delivery batch."""
    rows = IdempotencyKey.select(IdempotencyKey.key, IdempotencyKey.receipt).where(
        IdempotencyKey.receipt.in_(list(ids))
    )
    return {row.receipt_id: row.key for row in rows}


def due_count(now: float | None = None) -> int:
    """Deliveries a runner could take right now: pending past their backoff, and legs still leased. A leased
    leg is either in a live runner's hands (then the host lock is taken and a new run is refused at once,
    ``SyncBusy``) or a dead runner's, which the next run that gets the lock reclaims and delivers."""
    now = time.time() if now is None else now
    due = (Delivery.status == "pending") & (Delivery.next_attempt_at <= now)
    return Delivery.select().where(due | (Delivery.status == "syncing")).count()


def kick(target: str) -> int:
    """Make every pending delivery of ``target`` due now (the endpoint just recovered)."""
    with write_transaction():
        return (
            Delivery.update(next_attempt_at=0.0)
            .where(Delivery.target == target, Delivery.status == "pending")
            .execute()
        )


# --- outcomes ---------------------------------------------------------------------------------------


def delivered(
    delivery_id: int, owner: str, *, ack: bytes | None = None, server_time_ms: int | None = None
) -> bool:
    """A leg arrived ("already have it" included). False if the lease was lost to another runner."""
    with write_transaction():
        row = Delivery.get_by_id(delivery_id)
        if row.status == "delivered":
            return True  # a duplicate acknowledgment: absorbed
        if row.lease_owner != owner or row.status != "syncing":
            return False
        Delivery.update(
            status="delivered",
            delivered_at=int(time.time()),
            lease_owner=None,
            lease_until=None,
            last_error=None,
            ack=ack,
        ).where(Delivery.id == delivery_id).execute()
        add_event(f"{row.target}_delivered", row.receipt_id, fd=row.fd, fn_number=row.fn_number)
        add_counter("kkt_documents_delivered_total", f"target={row.target}")
        if row.receipt_id and server_time_ms is not None:
            Receipt.update(hlc_server_time=server_time_ms).where(Receipt.id == row.receipt_id).execute()
        refresh_receipt(row.receipt_id)
        return True


def failed_transient(delivery_id: int, owner: str, error: str, next_attempt_at: float) -> None:
    """Timeout, connection error, 5xx: retried after the backoff, never sent to the DLQ."""
    with write_transaction():
        row = Delivery.get_by_id(delivery_id)
        if row.lease_owner != owner:
            return
        Delivery.update(
            status="pending",
            attempts=Delivery.attempts + 1,
            last_error=error[:500],
            next_attempt_at=next_attempt_at,
            lease_owner=None,
            lease_until=None,
        ).where(Delivery.id == delivery_id).execute()
        if row.receipt_id:
            Receipt.update(retry_count=Receipt.retry_count + 1, last_error=error[:500]).where(
                Receipt.id == row.receipt_id
            ).execute()
        add_event("delivery_failed", row.receipt_id, target=row.target, fd=row.fd, error=error[:200])
        refresh_receipt(row.receipt_id)


def failed_permanent(delivery_id: int, owner: str, reason: str) -> str | None:
    """A permanent rejection: the leg goes to the DLQ with the reason; returns the DLQ id."""
    with write_transaction():
        row = Delivery.get_by_id(delivery_id)
        if row.lease_owner != owner:
            return None
        Delivery.update(
            status="failed",
            attempts=Delivery.attempts + 1,
            last_error=reason[:500],
            lease_owner=None,
            lease_until=None,
        ).where(Delivery.id == delivery_id).execute()
        dlq_id = str(uuid.uuid4())
        receipt = Receipt.get_or_none(Receipt.id == row.receipt_id) if row.receipt_id else None
        Dlq.create(
            id=dlq_id,
            original_receipt=row.receipt_id,
            delivery=row.id,
            failed_at=int(time.time()),
            reason=f"{row.target}: {reason}"[:1000],
            fiscal_doc=receipt.document
            if receipt
            else json.dumps({"fn_number": row.fn_number, "fd": row.fd}),
            retry_attempts=row.attempts + 1,
            last_error=reason[:500],
        )
        add_event(
            "receipt_failed", row.receipt_id, target=row.target, fd=row.fd, reason=reason[:200], dlq_id=dlq_id
        )
        add_counter("kkt_receipts_synced_total", "status=failed")
        refresh_receipt(row.receipt_id)
        return dlq_id


def refresh_receipt(receipt_id: str | None) -> None:
    """Derive the receipt's delivery status from its legs; write receipt_synced once when both arrive.

    Call inside a write transaction. A leg sent back to pending after it arrived (buffer/redelivery.py:
    Odoo lost it) takes a synced receipt back to pending; when the leg arrives again the receipt is synced
    again, with a second ``receipt_synced`` event and count — the counter counts arrivals, not receipts."""
    if not receipt_id:
        return
    receipt = Receipt.get_by_id(receipt_id)
    if receipt.fiscal_status != "printed":
        return
    legs = {d.target: d.status for d in Delivery.select().where(Delivery.receipt == receipt_id)}
    if "failed" in legs.values():
        status = "failed"
    elif legs.get("ofd") == "delivered" and legs.get("odoo") == "delivered":
        status = "synced"
    elif "syncing" in legs.values():
        status = "syncing"
    else:
        status = "pending"
    if status == receipt.status:
        return
    Receipt.update(status=status, synced_at=int(time.time()) if status == "synced" else None).where(
        Receipt.id == receipt_id
    ).execute()
    if status == "synced":
        add_event("receipt_synced", receipt_id, fd=receipt.fd_number)
        add_counter("kkt_receipts_synced_total", "status=success")
    elif status == "failed":
        add_counter("kkt_receipts_synced_total", "status=failed")  # once per receipt, however many legs


# --- OFD acknowledgments back to the FN -------------------------------------------------------------


def acks_to_apply(limit: int = 50) -> list[Delivery]:
    return list(
        Delivery.select()
        .where(
            Delivery.target == "ofd",
            Delivery.status == "delivered",
            Delivery.ack.is_null(False),
            Delivery.ack_applied_at.is_null(),
        )
        .order_by(Delivery.fd)
        .limit(limit)
    )


def ack_applied(delivery_id: int) -> None:
    with write_transaction():
        row = Delivery.get_by_id(delivery_id)
        Delivery.update(ack_applied_at=int(time.time())).where(Delivery.id == delivery_id).execute()
        add_event("ofd_ack_applied", row.receipt_id, fd=row.fd, fn_number=row.fn_number)


# --- DLQ --------------------------------------------------------------------------------------------


def dlq_list(include_resolved: bool = False) -> list[Dlq]:
    query = Dlq.select().order_by(Dlq.failed_at)
    if not include_resolved:
        query = query.where(Dlq.resolved_at.is_null())
    return list(query)


class DlqError(Refusal, LookupError):
    """No open DLQ entry with that id."""

    code = "dlq_entry_not_found"


def dlq_retry(dlq_id: str, by: str) -> Dlq:
    """Send a DLQ entry's leg again (after the cause was fixed); the entry is closed as retried."""
    with write_transaction():
        entry = Dlq.get_or_none(Dlq.id == dlq_id)
        if entry is None or entry.resolved_at is not None:
            raise DlqError(f"no open DLQ entry {dlq_id}")
        Dlq.update(resolved_at=int(time.time()), resolved_by=f"retry:{by}"[:64]).where(
            Dlq.id == dlq_id
        ).execute()
        if entry.delivery_id:
            Delivery.update(status="pending", attempts=0, next_attempt_at=0.0, last_error=None).where(
                Delivery.id == entry.delivery_id
            ).execute()
        add_event("dlq_retried", entry.original_receipt_id, dlq_id=dlq_id, by=by)
        refresh_receipt(entry.original_receipt_id)
        return Dlq.get_by_id(dlq_id)


def dlq_resolve(dlq_id: str, by: str, note: str = "") -> Dlq:
    """Close a DLQ entry settled by hand (e.g. sent through the OFD's web cabinet); the leg stays failed."""
    with write_transaction():
        entry = Dlq.get_or_none(Dlq.id == dlq_id)
        if entry is None or entry.resolved_at is not None:
            raise DlqError(f"no open DLQ entry {dlq_id}")
        Dlq.update(resolved_at=int(time.time()), resolved_by=by[:64]).where(Dlq.id == dlq_id).execute()
        add_event("dlq_resolved", entry.original_receipt_id, dlq_id=dlq_id, by=by, note=note[:200])
        return Dlq.get_by_id(dlq_id)


# --- cross-process counters and overview -------------------------------------------------------------


def add_counter(name: str, labels: str = "", value: float = 1.0) -> None:
    """Increment a counter; call inside a write transaction (or on its own, it opens none)."""
    Counter.insert(name=name, labels=labels, value=value).on_conflict(
        conflict_target=[Counter.name, Counter.labels], update={Counter.value: Counter.value + value}
    ).execute()


def counters() -> list[Counter]:
    return list(Counter.select())


@dataclass(frozen=True)
class SyncOverview:
    pending: dict[str, int]
    delivered: dict[str, int]
    failed: dict[str, int]
    acks_waiting: int
    oldest_pending_age_seconds: float | None


def overview() -> SyncOverview:
    def by_target(status: tuple[str, ...]) -> dict[str, int]:
        out = {"ofd": 0, "odoo": 0}
        for row in Delivery.select(Delivery.target).where(Delivery.status.in_(status)):
            out[row.target] += 1
        return out

    oldest = (
        Delivery.select(Delivery.created_at)
        .where(Delivery.status.in_(("pending", "syncing")))
        .order_by(Delivery.created_at)
        .first()
    )
    return SyncOverview(
        pending=by_target(("pending", "syncing")),
        delivered=by_target(("delivered",)),
        failed=by_target(("failed",)),
        acks_waiting=len(acks_to_apply(10_000)),
        oldest_pending_age_seconds=(time.time() - oldest.created_at) if oldest else None,
    )
