"""Advances of glasses jobs as this till's journal holds them, and the check of an advance offset (FFD 1215).

An optical store takes an advance for made-to-order glasses (items with FFD 1214 = 1/2/3, the receipt
naming the job in ``job_ref``, FFD 1192) and offsets it on the final receipt at pickup. ``check_offset``
runs inside the write transaction that journals the offsetting receipt (``journal.accept_receipt``), so
two concurrent offsets against one advance are serialised: the second sees the first.

A receipt counts while it is fiscalized or on its way to be (``accepted``, ``printing``, ``printed``); a
``rejected`` one never reached the FN. When this till took no advance for the job (taken in another
store), nothing is checked here: Odoo's job record is authoritative and its receiver flags mismatches.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from kkt_adapter.buffer.models import Receipt, ReceiptItem
from kkt_adapter.refusal import Refusal

#: FFD 1214 values of an advance: 1 prepayment 100 %, 2 partial prepayment, 3 advance.
ADVANCE_METHODS = (1, 2, 3)
#: FFD 1054: a sale takes an advance in, a sale return gives it back.
SALE, SALE_RETURN = 1, 2
#: Fiscal states of a receipt the FN signed or will sign (docs/receipt-state-machine.md).
COUNTED = ("accepted", "printing", "printed")


class PrepaymentExceedsAdvance(Refusal):
    """The offset is above what this till's journal holds as advance for the job."""

    code = "prepayment_exceeds_advance"

    def __init__(self, job_ref: str, offset: int, held: int):
        super().__init__(
            f"prepayment offset {offset / 100:.2f} exceeds the advance this till holds for job {job_ref!r}: "
            f"{held / 100:.2f}",
            job_ref=job_ref,
            prepayment=f"{offset / 100:.2f}",
            held=f"{held / 100:.2f}",
        )


@dataclass(frozen=True)
class JobAdvance:
    """Kopecks of one job on this till: advances taken, given back by refunds, already offset."""

    taken: int
    returned: int
    offset: int

    @property
    def held(self) -> int:
        return self.taken - self.returned - self.offset


def job_advance(job_ref: str) -> JobAdvance:
    """The job's advance ledger from the journal (two indexed queries)."""
    sums = dict(
        ReceiptItem.select(Receipt.settlement, peewee.fn.SUM(ReceiptItem.amount))
        .join(Receipt)
        .where(
            Receipt.job_ref == job_ref,
            Receipt.fiscal_status.in_(COUNTED),
            ReceiptItem.payment_method.in_(ADVANCE_METHODS),
        )
        .group_by(Receipt.settlement)
        .tuples()
    )
    offset = (
        Receipt.select(peewee.fn.SUM(Receipt.prepayment))
        .where(Receipt.job_ref == job_ref, Receipt.fiscal_status.in_(COUNTED))
        .scalar()
    )
    return JobAdvance(taken=sums.get(SALE) or 0, returned=sums.get(SALE_RETURN) or 0, offset=offset or 0)


def check_offset(job_ref: str | None, prepayment: int) -> None:
    """Refuse an offset above the advance held here for ``job_ref`` (call inside the write transaction that
    journals the receipt). No offset, or no advance taken on this till for the job: nothing to check."""
    if not prepayment or job_ref is None:
        return
    ledger = job_advance(job_ref)
    if ledger.taken > 0 and prepayment > ledger.held:
        raise PrepaymentExceedsAdvance(job_ref, prepayment, max(ledger.held, 0))
