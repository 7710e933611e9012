"""A journaled receipt as an FN document: what to print for it, and recording what the FN signed.

Shared by the printer and the reconciler: both must build the same document (a late receipt becomes a
correction receipt, 54-FZ) and journal a signature the same way (FD, FP, shift, delivery legs).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from kkt_adapter.buffer import journal
from kkt_adapter.buffer.models import Receipt
from kkt_adapter.config import ReceiptConfig
from kkt_adapter.fiscal import request as receipt_request
from kkt_adapter.kkt.types import Correction, FiscalReceipt, FiscalResult

log = logging.getLogger(__name__)


def fiscal_receipt(receipt: Receipt, cfg: ReceiptConfig) -> FiscalReceipt:
    """The FN document for a journaled receipt (limits loosened to what was accepted back then)."""
    stored = json.loads(receipt.fiscal_doc)["request"]
    validated = receipt_request.validate(
        stored,
        pos_id=receipt.pos_id,
        taxation_system=cfg.taxation_system,
        max_items=max(cfg.max_items, len(stored.get("items", []))),
        max_total=max(cfg.max_total, receipt.total),
    )
    fiscal = validated.fiscal
    changes: dict[str, Any] = {"text": f"Чек {receipt.id}"}
    if fiscal.correction is None and is_late(receipt, cfg.late_after_seconds):
        # Not fiscalized at the time of payment (the KKT was down): 54-FZ wants a correction receipt,
        # on own initiative (1173 = 0), based on the sale's date (1178).
        changes["correction"] = Correction(
            correction_type=0, basis_date=date.fromtimestamp(receipt.created_at), basis_number=""
        )
    return replace(fiscal, **changes)


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
