"""A receipt as an FN document: validated once into typed columns, read back to print, signature recorded.

``typed_columns`` is what the buffer stores when a receipt is accepted; ``fiscal_receipt`` rebuilds the
document from those columns (never re-validating the request) for the printer and the reconciler, which
must agree (a late receipt becomes a correction receipt, 54-FZ); ``record_signed`` journals a signature
the same way for both (FD, FP, shift, delivery legs). ``type_stored_receipts`` types receipts journaled
before schema v3.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from kkt_adapter.buffer import journal
from kkt_adapter.buffer.models import Receipt
from kkt_adapter.config import ReceiptConfig
from kkt_adapter.fiscal import request as receipt_request
from kkt_adapter.kkt.types import (
    Cashier,
    Correction,
    FiscalItem,
    FiscalReceipt,
    FiscalResult,
    SettlementKind,
)

log = logging.getLogger(__name__)

MICRO = 1_000_000  # quantities are stored in millionths (FFD 1023 allows at most 6 decimals)


class UntypedReceipt(RuntimeError):
    """A receipt journaled before schema v3 that ``type_stored_receipts`` could not type yet."""


def typed_columns(fiscal: FiscalReceipt) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The validated receipt as the buffer stores it: receipt columns and receipt_items rows."""
    correction = fiscal.correction
    typed = {
        "settlement": int(fiscal.kind),
        "taxation_system": fiscal.taxation_system,
        "cash": fiscal.cash,
        "electronic": fiscal.electronic,
        "buyer_contact": fiscal.buyer_contact,
        "correction_type": correction.correction_type if correction else None,
        "correction_basis_date": correction.basis_date.isoformat() if correction else None,
        "correction_basis_number": correction.basis_number if correction else None,
        "cashier_name": fiscal.cashier.name if fiscal.cashier else None,
        "cashier_inn": fiscal.cashier.inn if fiscal.cashier else None,
        "job_ref": fiscal.job_ref,
        "prepayment": fiscal.prepayment,
    }
    lines = [
        {
            "name": item.name,
            "price": item.price,
            "quantity_micro": int(item.quantity * MICRO),  # at most 6 decimals (validated): exact
            "amount": item.amount,
            "vat": item.vat,
            "payment_method": item.payment_method,
            "payment_subject": item.payment_subject,
            "measure_unit": item.measure_unit,
            "department": item.department,
        }
        for item in fiscal.items
    ]
    return typed, lines


def fiscal_receipt(receipt: Receipt, cfg: ReceiptConfig) -> FiscalReceipt:
    """The FN document for a journaled receipt, from its typed columns (validated once, when accepted)."""
    if receipt.settlement is None:
        raise UntypedReceipt(f"receipt {receipt.id} has no typed columns yet (journaled before schema v3)")
    items = tuple(
        FiscalItem(
            name=line.name,
            price=line.price,
            quantity=Decimal(line.quantity_micro) / MICRO,
            amount=line.amount,
            vat=line.vat,
            payment_method=line.payment_method,
            payment_subject=line.payment_subject,
            measure_unit=line.measure_unit,
            department=line.department,
        )
        for line in journal.lines_of(receipt.id)
    )
    correction = None
    if receipt.correction_type is not None:
        correction = Correction(
            correction_type=receipt.correction_type,
            basis_date=date.fromisoformat(receipt.correction_basis_date),
            basis_number=receipt.correction_basis_number or "",
        )
    elif is_late(receipt, cfg.late_after_seconds):
        # Not fiscalized at the time of payment (the KKT was down): 54-FZ wants a correction receipt,
        # on own initiative (1173 = 0), based on the sale's date (1178).
        correction = Correction(
            correction_type=0, basis_date=date.fromtimestamp(receipt.created_at), basis_number=""
        )
    return FiscalReceipt(
        kind=SettlementKind(receipt.settlement),
        items=items,
        cash=receipt.cash,
        electronic=receipt.electronic,
        prepayment=receipt.prepayment or 0,
        taxation_system=receipt.taxation_system,
        buyer_contact=receipt.buyer_contact,
        correction=correction,
        text=f"Чек {receipt.id}",
        cashier=Cashier(receipt.cashier_name, receipt.cashier_inn) if receipt.cashier_name else None,
        job_ref=receipt.job_ref,
    )


def type_stored_receipts(cfg: ReceiptConfig, batch: int = 100) -> int:
    """Give receipts journaled before schema v3 their typed columns and lines (start-up, before printing).

    Each receipt is typed in its own transaction from the request it was accepted with, validated as it
    was then (limits loosened to what was accepted): a crash in the middle leaves the rest for the next
    start. Returns how many were typed.
    """
    typed_now = 0
    failed: set[str] = set()
    while rows := [r for r in journal.untyped_receipts(batch + len(failed)) if r.id not in failed]:
        for receipt in rows:
            stored = json.loads(receipt.document)
            try:
                validated = receipt_request.validate(
                    stored,
                    pos_id=receipt.pos_id,
                    taxation_system=cfg.taxation_system,
                    max_items=max(cfg.max_items, len(stored.get("items", []))),
                    max_total=max(cfg.max_total, receipt.total),
                )
            except receipt_request.InvalidReceipt as exc:
                failed.add(receipt.id)
                log.error("receipt %s cannot be typed from its stored request: %s", receipt.id, exc)
                continue
            typed, lines = typed_columns(validated.fiscal)
            typed_now += journal.store_typed(receipt.id, typed, lines)
    if typed_now or failed:
        log.warning(
            "schema v3: %d receipts typed from their stored requests, %d could not be", typed_now, len(failed)
        )
    return typed_now


def is_late(receipt: Receipt, late_after_seconds: float) -> bool:
    """Printed after ``late_after_seconds`` or on another calendar day than it was paid."""
    accepted = datetime.fromtimestamp(receipt.created_at)
    now = datetime.now()
    return (now - accepted).total_seconds() > late_after_seconds or now.date() != accepted.date()


def record_signed(
    receipt: Receipt, fn_number: str, result: FiscalResult, via: str, document_type: int
) -> None:
    """Journal the FN's signature of ``receipt`` (``via``: print | reconcile)."""
    journal.mark_printed(
        receipt.id,
        fn_number=fn_number,
        fd_number=result.fd_number,
        fiscal_sign=result.fiscal_sign,
        fiscal_datetime=result.issued_at.isoformat(),
        shift_number=journal.open_shift_number(),
        via=via,
        document_type=document_type,
    )
    log.info(
        "receipt %s printed, FD %s",
        receipt.id,
        result.fd_number,
        extra={"RECEIPT_ID": receipt.id, "FD": result.fd_number},
    )
