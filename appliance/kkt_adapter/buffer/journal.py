"""Journal operations: every state change of a receipt and its event row commit in one transaction.

Write transactions (``connection.write_transaction``) are ``BEGIN IMMEDIATE`` so that the HLC
read-modify-write and the capacity check are serialised across every process that opens the buffer
(adapter, sync runner, kktctl); on a full disk they raise ``storage.StorageFull`` with nothing committed.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from kkt_adapter.buffer import advances, deliveries
from kkt_adapter.buffer.connection import write_transaction
from kkt_adapter.buffer.events import add_event, dumps, next_hlc
from kkt_adapter.buffer.models import (
    BufferEvent,
    Dlq,
    HlcState,
    IdempotencyKey,
    KktState,
    Receipt,
    ReceiptItem,
    Shift,
)
from kkt_adapter.refusal import Refusal

#: Delivery statuses that occupy buffer capacity: accepted for delivery and not delivered yet.
QUEUED = ("pending", "syncing")


class IdempotencyConflict(Refusal):
    """The key was already used with a different request body."""

    code = "idempotency_conflict"

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was already used for a different receipt; generate a new key per sale"
        )


class BufferFull(Refusal):
    """The buffer holds ``capacity`` undelivered receipts; accepting more would break the promise."""

    code = "buffer_full"

    def __init__(self, queued: int, capacity: int):
        super().__init__(f"{queued} receipts await delivery (capacity {capacity}); deliver the backlog first")
        self.queued = queued
        self.capacity = capacity


def canonical_hash(payload: Any) -> str:
    """sha256 of the canonical JSON form: key order and whitespace do not change the hash."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- receipts: acceptance and idempotency ---------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    receipt: Receipt
    key: IdempotencyKey
    created: bool  # False: the key was seen before (a retry)


def accept_receipt(
    key: str,
    request: dict[str, Any],
    *,
    pos_id: str,
    kind: str,
    total: int,
    capacity: int,
    typed: dict[str, Any],
    lines: list[dict[str, Any]],
    original_receipt_id: str | None = None,
) -> Accepted:
    """Journal a new receipt under ``key``, or return the existing one for a retry of the same request.

    ``request`` is kept as sent (``document``); ``typed`` (receipt columns) and ``lines`` (receipt_items
    columns) are the validated receipt, written together with it (fiscal/document.py builds them).
    A new receipt offsetting a glasses job's advance (``typed`` job_ref / prepayment) is refused with
    ``advances.PrepaymentExceedsAdvance`` beyond what this till holds; a retry of an accepted one is not.
    """
    request_hash = canonical_hash(request)
    with write_transaction():
        existing = IdempotencyKey.get_or_none(IdempotencyKey.key == key)
        if existing is not None:
            if existing.request_hash != request_hash:
                raise IdempotencyConflict()
            return Accepted(existing.receipt, existing, created=False)
        queued = (
            Receipt.select().where(Receipt.status.in_(QUEUED), Receipt.fiscal_status != "rejected").count()
        )
        if queued >= capacity:
            raise BufferFull(queued, capacity)
        # Under the same write lock as the insert below: two offsets of one advance cannot both pass.
        advances.check_offset(typed.get("job_ref"), typed.get("prepayment", 0))
        ts = next_hlc()
        receipt = Receipt.create(
            id=str(uuid.uuid4()),
            pos_id=pos_id,
            kind=kind,
            created_at=int(time.time()),
            hlc_local_time=ts.wall_ms,
            hlc_logical_counter=ts.logical,
            document=dumps(request),
            total=total,
            original_receipt=original_receipt_id,
            **typed,
        )
        _insert_lines(receipt.id, lines)
        idem = IdempotencyKey.create(
            key=key, request_hash=request_hash, receipt=receipt, created_at=int(time.time())
        )
        add_event("receipt_added", receipt.id, idempotency_key=key, kind=kind, total=total)
        return Accepted(receipt, idem, created=True)


def _insert_lines(receipt_id: str, lines: list[dict[str, Any]]) -> None:
    for position, line in enumerate(lines):
        ReceiptItem.create(receipt=receipt_id, position=position, **line)


def untyped_receipts(limit: int = 100) -> list[Receipt]:
    """Receipts journaled before schema v3 whose typed columns and lines are not written yet."""
    return list(
        Receipt.select().where(Receipt.settlement.is_null()).order_by(Receipt.created_at).limit(limit)
    )


def store_typed(receipt_id: str, typed: dict[str, Any], lines: list[dict[str, Any]]) -> bool:
    """Write the typed columns and lines of a receipt journaled before v3 (once: False if already typed)."""
    with write_transaction():
        updated = (
            Receipt.update(**typed).where(Receipt.id == receipt_id, Receipt.settlement.is_null()).execute()
        )
        if updated:
            _insert_lines(receipt_id, lines)
        return bool(updated)


def lines_of(receipt_id: str) -> list[ReceiptItem]:
    return list(ReceiptItem.select().where(ReceiptItem.receipt == receipt_id).order_by(ReceiptItem.position))


def store_response(key: str, status_code: int, response: dict[str, Any]) -> None:
    """Store the answer a retry with ``key`` gets. A "buffered" answer never replaces a final one (printed or
    rejected): two requests with the same key (a second POS tab, a retry while the first still waits for
    the KKT) may finish in either order, and the later one may have given up waiting."""
    with write_transaction():
        if response.get("status") == "buffered":
            stored = IdempotencyKey.get_or_none(IdempotencyKey.key == key)
            answered = stored is not None and stored.response is not None
            if answered and json.loads(stored.response).get("status") != "buffered":
                return
        IdempotencyKey.update(status_code=status_code, response=dumps(response)).where(
            IdempotencyKey.key == key
        ).execute()


def get_key(key: str) -> IdempotencyKey | None:
    return IdempotencyKey.get_or_none(IdempotencyKey.key == key)


def get_receipt(receipt_id: str) -> Receipt | None:
    return Receipt.get_or_none(Receipt.id == receipt_id)


# --- fiscal state machine (docs/receipt-state-machine.md) -----------------------------------------


#: Fiscal state machine: (state, event) -> next state. Every state change goes through ``_transition``,
#: which allows exactly these (docs/receipt-state-machine.md); the tests replay events against it too.
FISCAL_TRANSITIONS = {
    (None, "receipt_added"): "accepted",
    ("accepted", "print_started"): "printing",
    ("printing", "receipt_printed"): "printed",
    ("printing", "reconciled_printed"): "printed",
    ("printing", "print_failed"): "accepted",
    ("printing", "reconciled_not_printed"): "accepted",
    ("printing", "print_unknown"): "printing",
    ("accepted", "receipt_rejected"): "rejected",
    ("printing", "receipt_rejected"): "rejected",
}


class IllegalTransition(RuntimeError):
    """A state change the fiscal state machine does not allow (a bug, never a cashier's mistake)."""


def _transition(receipt_id: str, event: str, **columns: Any) -> None:
    """Apply ``event`` to the receipt (inside a write transaction): its state must be one the event may
    leave from; the new state, ``columns`` and the event row are written together."""
    sources = [state for (state, ev) in FISCAL_TRANSITIONS if ev == event and state is not None]
    targets = {FISCAL_TRANSITIONS[(state, event)] for state in sources}
    assert len(targets) == 1, f"event {event} has no single target state"
    updated = (
        Receipt.update(fiscal_status=targets.pop(), **columns)
        .where(Receipt.id == receipt_id, Receipt.fiscal_status.in_(sources))
        .execute()
    )
    if updated != 1:
        current = Receipt.get_or_none(Receipt.id == receipt_id)
        state = current.fiscal_status if current else "absent"
        raise IllegalTransition(f"receipt {receipt_id}: {state} --{event}--> not allowed")


def start_print(receipt_id: str, fd_before: int, fn_number: str) -> None:
    """accepted -> printing, with the FN's last FD recorded *before* any fiscal command is sent."""
    with write_transaction():
        _transition(
            receipt_id,
            "print_started",
            fd_before=fd_before,
            fn_number=fn_number,
            print_attempts=Receipt.print_attempts + 1,
        )
        add_event("print_started", receipt_id, fd_before=fd_before, fn_number=fn_number)
        _update_kkt_state(fn_number, fd_before)


def mark_printed(
    receipt_id: str,
    *,
    fn_number: str,
    fd_number: int,
    fiscal_sign: int,
    fiscal_datetime: str,
    shift_number: int | None,
    via: str,
    document_type: int = 3,
) -> Receipt:
    """printing -> printed (``via`` = "print" or "reconcile"), with the FN's answer in its columns."""
    event = "receipt_printed" if via == "print" else "reconciled_printed"
    with write_transaction():
        _transition(
            receipt_id,
            event,
            fn_number=fn_number,
            fd_number=fd_number,
            fiscal_sign=fiscal_sign,
            fiscal_datetime=fiscal_datetime,
            shift_number=shift_number,
            fiscal_document_type=document_type,  # FFD: 3 receipt, 31 correction (also a late sale)
            last_error=None,
        )
        add_event(event, receipt_id, fd_number=fd_number, fiscal_sign=fiscal_sign, fn_number=fn_number)
        _update_kkt_state(fn_number, fd_number)
        printed = Receipt.get_by_id(receipt_id)
        deliveries.enqueue_odoo(printed, fn_number, fd_number, document_type)
        deliveries.link_receipt_documents(receipt_id, fn_number, fd_number)
        return printed


def mark_not_printed(receipt_id: str, reason: str, *, reconciled: bool) -> None:
    """printing -> accepted: the FN proves (or the device refused) that nothing was fiscalized."""
    event = "reconciled_not_printed" if reconciled else "print_failed"
    with write_transaction():
        _transition(receipt_id, event, last_error=reason)
        add_event(event, receipt_id, reason=reason)


def mark_unknown(receipt_id: str, reason: str) -> None:
    """printing stays printing: the device did not answer; the outcome is decided by reconciliation."""
    with write_transaction():
        _transition(receipt_id, "print_unknown", last_error=reason)
        add_event("print_unknown", receipt_id, reason=reason)


def note_waiting(receipt_id: str, reason: str) -> None:
    """Record why an accepted receipt is still waiting for the KKT (no state change, no event)."""
    with write_transaction():
        Receipt.update(last_error=reason).where(
            Receipt.id == receipt_id, Receipt.fiscal_status == "accepted"
        ).execute()


def mark_rejected(receipt_id: str, reason: str, code: int | None = None) -> None:
    """accepted|printing -> rejected: the KKT refuses this receipt for a reason retries cannot fix."""
    with write_transaction():
        _transition(receipt_id, "receipt_rejected", last_error=reason)
        add_event("receipt_rejected", receipt_id, reason=reason, device_code=code)


def receipts_in(fiscal_status: str, limit: int | None = None) -> list[Receipt]:
    query = (
        Receipt.select()
        .where(Receipt.fiscal_status == fiscal_status)
        .order_by(Receipt.hlc_local_time, Receipt.hlc_logical_counter)
    )
    if limit:
        query = query.limit(limit)
    return list(query)


def events_for(receipt_id: str) -> list[BufferEvent]:
    return list(BufferEvent.select().where(BufferEvent.receipt == receipt_id).order_by(BufferEvent.id))


# --- shifts and KKT state ---------------------------------------------------------------------------


def _update_kkt_state(fn_number: str, last_fd: int) -> None:
    KktState.update(fn_number=fn_number, last_fd_seen=last_fd, updated_at=int(time.time())).where(
        KktState.id == 1
    ).execute()


def record_shift_opened(fn_number: str, number: int, fd_number: int) -> None:
    with write_transaction():
        Shift.insert(
            fn_number=fn_number, number=number, status="open", opened_at=int(time.time()), open_fd=fd_number
        ).on_conflict_ignore().execute()
        add_event("shift_opened", None, fn_number=fn_number, shift_number=number, fd_number=fd_number)
        _update_kkt_state(fn_number, fd_number)


def record_shift_closed(fn_number: str, number: int, fd_number: int) -> None:
    with write_transaction():
        updated = (
            Shift.update(status="closed", closed_at=int(time.time()), close_fd=fd_number)
            .where(Shift.fn_number == fn_number, Shift.number == number)
            .execute()
        )
        if not updated:  # opened before this buffer existed (e.g. a replaced till disk)
            Shift.create(
                fn_number=fn_number,
                number=number,
                status="closed",
                opened_at=int(time.time()),
                closed_at=int(time.time()),
                close_fd=fd_number,
            )
        add_event("shift_closed", None, fn_number=fn_number, shift_number=number, fd_number=fd_number)
        _update_kkt_state(fn_number, fd_number)


def record_x_report(
    shift_number: int | None, *, cashier_name: str | None = None, cashier_inn: str | None = None
) -> None:
    """An X report was printed (no FN document: this event is its only record, with its cashier)."""
    with write_transaction():
        add_event(
            "x_report", None, shift_number=shift_number, cashier_name=cashier_name, cashier_inn=cashier_inn
        )


def open_shift_number() -> int | None:
    shift = open_shift()
    return shift.number if shift else None


def open_shift() -> Shift | None:
    """The shift the journal holds open (the last one opened), or None."""
    return Shift.select().where(Shift.status == "open").order_by(Shift.id.desc()).first()


@dataclass(frozen=True)
class ShiftTotals:
    """Printed receipts of one shift, kopecks. ``sales`` / ``refunds``: totals of sale (1054 = 1) and sale
    return (1054 = 2) receipts, correction receipts included by their settlement; ``cash`` / ``electronic`` /
    ``prepayment`` (advances offset, FFD 1215): net by means of payment (sales less refunds), so
    ``cash + electronic + prepayment == sales - refunds``."""

    receipts: int
    sales: int
    refunds: int
    cash: int
    electronic: int
    prepayment: int = 0


#: FFD 1054 settlement of a sale return: its money goes back to the buyer.
SALE_RETURN = 2


def shift_totals(fn_number: str, shift_number: int) -> ShiftTotals:
    """Totals of the receipts printed in shift ``shift_number`` of FN ``fn_number`` (one query)."""
    rows = Receipt.select(
        Receipt.settlement, Receipt.total, Receipt.cash, Receipt.electronic, Receipt.prepayment
    ).where(
        Receipt.fiscal_status == "printed",
        Receipt.fn_number == fn_number,
        Receipt.shift_number == shift_number,
    )
    sales = refunds = cash = electronic = offset = count = 0
    for row in rows.tuples():
        settlement, total, paid_cash, paid_electronic, paid_offset = row
        sign = -1 if settlement == SALE_RETURN else 1
        count += 1
        if sign > 0:
            sales += total
        else:
            refunds += total
        cash += sign * (paid_cash or 0)
        electronic += sign * (paid_electronic or 0)
        offset += sign * (paid_offset or 0)
    return ShiftTotals(count, sales, refunds, cash, electronic, offset)


def fd_taken(fn_number: str, fd: int, receipt_id: str) -> bool:
    """True when another receipt already owns this FD (one FN document never matches two receipts)."""
    return (
        Receipt.select()
        .where(Receipt.fn_number == fn_number, Receipt.fd_number == fd, Receipt.id != receipt_id)
        .exists()
    )


def refunded_total(original_id: str) -> int:
    """Kopecks refunded (or on their way to the KKT) against a sale; refused refunds do not count."""
    refunds = Receipt.select(Receipt.total).where(
        Receipt.original_receipt == original_id, Receipt.fiscal_status != "rejected"
    )
    return sum(r.total for r in refunds)


def kkt_state() -> KktState:
    return KktState.get_by_id(1)


# --- status -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BufferStatus:
    total_capacity: int
    current_queued: int
    percent_full: float
    not_printed: int  # accepted or printing: journaled, not yet fiscalized
    rejected: int
    dlq_size: int
    oldest_pending_age_seconds: float | None


def buffer_status(capacity: int) -> BufferStatus:
    queued_q = Receipt.select().where(Receipt.status.in_(QUEUED), Receipt.fiscal_status != "rejected")
    queued = queued_q.count()
    oldest = queued_q.order_by(Receipt.created_at).first()
    return BufferStatus(
        total_capacity=capacity,
        current_queued=queued,
        percent_full=round(100.0 * queued / capacity, 2),
        not_printed=Receipt.select().where(Receipt.fiscal_status.in_(("accepted", "printing"))).count(),
        rejected=Receipt.select().where(Receipt.fiscal_status == "rejected").count(),
        dlq_size=Dlq.select().where(Dlq.resolved_at.is_null()).count(),
        oldest_pending_age_seconds=(max(0.0, time.time() - oldest.created_at) if oldest else None),
    )


def list_receipts(
    limit: int = 50, fiscal_status: str | None = None, status: str | None = None
) -> list[Receipt]:
    query = Receipt.select().order_by(Receipt.hlc_local_time.desc(), Receipt.hlc_logical_counter.desc())
    if fiscal_status:
        query = query.where(Receipt.fiscal_status == fiscal_status)
    if status:
        query = query.where(Receipt.status == status)
    return list(query.limit(limit))


def probe_writable() -> None:
    """Take the write lock and commit a no-op update: raises if the buffer cannot be written."""
    with write_transaction():
        HlcState.update(wall_ms=HlcState.wall_ms).where(HlcState.id == 1).execute()
