"""Refund saga: validate the original -> print the sale return -> journal -> deliver.

Step 1 (here, before anything is journaled): the original must exist on this till, be a printed sale, be
delivered (owner's plan DoD: a refund of an undelivered sale -> 409 ``original_not_delivered``, so Odoo
and the OFD never see a return before its sale), and the refunds must not exceed it. Steps 2-4 are the
ordinary two-phase path; when the KKT refuses the return for good, the saga's compensation is recorded
(``refund_compensated``): nothing was fiscalized, the original stays refundable.
"""

from __future__ import annotations

from kkt_adapter.buffer import journal
from kkt_adapter.buffer.db import write_transaction
from kkt_adapter.buffer.models import Receipt
from kkt_adapter.fiscal.request import ValidatedReceipt
from kkt_adapter.kkt.types import SettlementKind


class RefundRefused(Exception):
    """The refund may not go ahead now; carries the HTTP problem to answer with."""

    def __init__(self, status: int, code: str, title: str, detail: str):
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail


def check_refund(validated: ValidatedReceipt, key: str) -> None:
    """Raise RefundRefused unless the refund may go ahead (a retry of an accepted refund always may)."""
    original = journal.get_receipt(validated.original_receipt_id)
    if original is None:
        raise RefundRefused(
            422,
            "original_not_found",
            "Original receipt unknown",
            f"no receipt {validated.original_receipt_id} on this till",
        )
    if journal.get_key(key) is not None:
        return  # the refund was accepted before: the retry follows the idempotency rules
    if validated.kind != "refund" and validated.fiscal.kind is not SettlementKind.SALE_RETURN:
        return  # a correction may cite the receipt it corrects without being a refund
    if original.kind == "refund" or original.fiscal_status != "printed":
        raise RefundRefused(
            422,
            "original_not_refundable",
            "Original cannot be refunded",
            f"receipt {original.id} is a {original.kind} in state {original.fiscal_status}",
        )
    if original.status != "synced":
        raise RefundRefused(
            409,
            "original_not_delivered",
            "Original sale not delivered yet",
            f"sale {original.id} has not reached the OFD and Odoo yet (status {original.status}); "
            "refund it once it is delivered",
        )
    left = original.total - journal.refunded_total(original.id)
    if validated.fiscal.total > left:
        raise RefundRefused(
            422,
            "refund_exceeds_original",
            "Refund exceeds the sale",
            f"refund {validated.fiscal.total / 100:.2f} exceeds what is left of the sale ({left / 100:.2f})",
        )


def compensate_if_rejected(receipt: Receipt) -> None:
    """Record the saga's compensation when the KKT refused a refund for good (nothing to undo)."""
    if receipt.kind == "refund" and receipt.fiscal_status == "rejected" and receipt.original_receipt_id:
        with write_transaction():
            journal.add_event(
                "refund_compensated",
                receipt.id,
                original_receipt_id=receipt.original_receipt_id,
                reason=receipt.last_error,
            )
