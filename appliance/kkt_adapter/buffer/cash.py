"""Journal of cash in / cash out operations (``cash_operations``): each state change in one write transaction.

An operation is journaled under its Idempotency-Key before the KKT hears of it, and the KKT's counters are
recorded before its command is sent (``mark_sending``), so a doubt left by a lost answer, a crash or a
restart can be decided from the KKT afterwards (fiscal/cash.py). Changes of status follow
``CASH_TRANSITIONS``; a change from any other status is a bug and raises.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from kkt_adapter.buffer.connection import write_transaction
from kkt_adapter.buffer.events import dumps
from kkt_adapter.buffer.journal import canonical_hash
from kkt_adapter.buffer.models import CashOperation, IdempotencyKey
from kkt_adapter.refusal import Refusal

#: status -> the statuses it may be entered from.
CASH_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "sending": ("accepted", "failed"),
    "done": ("sending",),
    "refused": ("sending",),
    "failed": ("accepted", "failed", "sending"),
}


class CashKeyConflict(Refusal):
    """The key was already used with a different request (another cash operation, or a receipt: a receipt's
    key is refused here, while a cash operation's key is not looked for by receipts, whose journal predates
    this table)."""

    code = "idempotency_conflict"

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was already used for a different request; generate a new key per cash "
            "operation"
        )


@dataclass(frozen=True)
class AcceptedCash:
    operation: CashOperation
    created: bool  # False: the key was seen before (a retry)


def accept(
    key: str,
    request: dict[str, Any],
    *,
    kind: str,
    amount: int,
    cashier_name: str | None,
    cashier_inn: str | None,
) -> AcceptedCash:
    """Journal a new operation under ``key``, or return the one a retry of the same request refers to.

    The request is compared with its kind: the same body sent to the other route is another request.
    """
    request_hash = canonical_hash({"kind": kind, "request": request})
    with write_transaction():
        existing = CashOperation.get_or_none(CashOperation.key == key)
        if existing is not None:
            if existing.request_hash != request_hash:
                raise CashKeyConflict()
            return AcceptedCash(existing, created=False)
        if IdempotencyKey.get_or_none(IdempotencyKey.key == key) is not None:
            raise CashKeyConflict()  # a receipt's key
        now = int(time.time())
        operation = CashOperation.create(
            id=str(uuid.uuid4()),
            key=key,
            request_hash=request_hash,
            document=dumps(request),
            kind=kind,
            amount=amount,
            cashier_name=cashier_name,
            cashier_inn=cashier_inn,
            created_at=now,
            updated_at=now,
        )
        return AcceptedCash(operation, created=True)


def get(operation_id: str) -> CashOperation:
    return CashOperation.get_by_id(operation_id)


def get_by_key(key: str) -> CashOperation | None:
    return CashOperation.get_or_none(CashOperation.key == key)


def in_doubt() -> list[CashOperation]:
    """Operations whose command may have reached the KKT without an answer, oldest first."""
    return list(
        CashOperation.select()
        .where(CashOperation.status == "sending")
        .order_by(CashOperation.created_at, CashOperation.id)
    )


def _transition(operation_id: str, status: str, **fields: Any) -> None:
    allowed = CASH_TRANSITIONS[status]
    with write_transaction():
        changed = (
            CashOperation.update(status=status, updated_at=int(time.time()), **fields)
            .where(CashOperation.id == operation_id, CashOperation.status.in_(allowed))
            .execute()
        )
        if changed != 1:
            current = CashOperation.get_or_none(CashOperation.id == operation_id)
            raise RuntimeError(
                f"cash operation {operation_id}: {current.status if current else 'missing'} -> {status} "
                f"is not allowed (from {', '.join(allowed)})"
            )


def mark_sending(
    operation_id: str, *, fn_number: str, document_number_before: int, number_before: int
) -> None:
    """The KKT's counters as they were just before the command is sent (durable before it is sent)."""
    _transition(
        operation_id,
        "sending",
        fn_number=fn_number,
        document_number_before=document_number_before,
        number_before=number_before,
        attempts=CashOperation.attempts + 1,
        last_error=None,
    )


def mark_done(operation_id: str, *, document_number: int, cash_in_drawer: int | None, via: str) -> None:
    _transition(
        operation_id,
        "done",
        document_number=document_number,
        cash_in_drawer=cash_in_drawer,
        last_error=None if via == "answer" else f"decided from the KKT's counters ({via})",
    )


def mark_refused(operation_id: str, detail: str, *, cash_in_drawer: int | None) -> None:
    _transition(operation_id, "refused", last_error=detail, cash_in_drawer=cash_in_drawer)


def mark_failed(operation_id: str, detail: str) -> None:
    """Certainly not recorded by the KKT: a retry with the same key sends it again."""
    _transition(operation_id, "failed", last_error=detail)


def note_doubt(operation_id: str, detail: str) -> None:
    """Why the operation is still in doubt (status stays ``sending``)."""
    with write_transaction():
        CashOperation.update(last_error=detail, updated_at=int(time.time())).where(
            CashOperation.id == operation_id, CashOperation.status == "sending"
        ).execute()


def store_response(operation_id: str, status_code: int, payload: dict[str, Any]) -> None:
    """The final answer (done / refused), replayed byte for byte to a retry with the same key."""
    with write_transaction():
        CashOperation.update(status_code=status_code, response=json.dumps(payload, ensure_ascii=False)).where(
            CashOperation.id == operation_id, CashOperation.status.in_(("done", "refused"))
        ).execute()
