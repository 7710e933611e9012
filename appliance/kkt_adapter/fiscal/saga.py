"""Refund saga: validate the original -> print the sale return -> journal -> deliver.

Step 1 (here, before anything is journaled): the original must exist on this till, be a printed sale, be
delivered (owner's plan DoD: a refund of an undelivered sale -> 409 ``original_not_delivered``, so Odoo
and the OFD never see a return before its sale), and the refunds must not exceed it. Steps 2-4 are the
ordinary two-phase path; when the KKT refuses the return for good, the saga's compensation is recorded
(``refund_compensated``): nothing was fiscalized, the original stays refundable.
"""

from __future__ import annotations

from kkt_adapter.buffer import events, journal
from kkt_adapter.buffer.connection import write_transaction
from kkt_adapter.buffer.models import Receipt
from kkt_adapter.fiscal.request import ValidatedReceipt
from kkt_adapter.kkt.types import SettlementKind
from kkt_adapter.refusal import Refusal


class RefundRefused(Refusal):
    """The refund may not go ahead now; ``code`` says why (original_not_found, original_not_refundable,
    original_not_delivered, refund_exceeds_original)."""


def check_refund(validated: ValidatedReceipt, key: str) -> None:
    """Raise RefundRefused unless the refund may go ahead (a retry of an accepted refund always may)."""
    original = journal.get_receipt(validated.original_receipt_id)
    if original is None:
        raise RefundRefused(
            f"no receipt {validated.original_receipt_id} on this till", code="original_not_found"
        )
    if journal.get_key(key) is not None:
        return  # the refund was accepted before: the retry follows the idempotency rules
    if validated.kind != "refund" and validated.fiscal.kind is not SettlementKind.SALE_RETURN:
        return  # a correction may cite the receipt it corrects without being a refund
    if original.kind == "refund" or original.fiscal_status != "printed":
        raise RefundRefused(
            f"receipt {original.id} is a {original.kind} in state {original.fiscal_status}",
            code="original_not_refundable",
        )
    if original.status != "synced":
        raise RefundRefused(
            f"sale {original.id} has not reached the OFD and Odoo yet (status {original.status}); "
            "refund it once it is delivered",
            code="original_not_delivered",
        )
    left = original.total - journal.refunded_total(original.id)
    if validated.fiscal.total > left:
        raise RefundRefused(
            f"refund {validated.fiscal.total / 100:.2f} exceeds what is left of the sale ({left / 100:.2f})",
            code="refund_exceeds_original",
        )


def compensate_if_rejected(receipt: Receipt) -> None:
    """Record the saga's compensation when the KKT refused a refund for good (nothing to undo)."""
    if receipt.kind == "refund" and receipt.fiscal_status == "rejected" and receipt.original_receipt_id:
        with write_transaction():
            events.add_event(
                "refund_compensated",
                receipt.id,
                original_receipt_id=receipt.original_receipt_id,
                reason=receipt.last_error,
            )
