"""``Reconciler``: decides from the FN alone whether a receipt left in ``printing`` was signed.

After a timeout, a lost link, a crash or a restart, a receipt in ``printing`` is in doubt. The FN's
journal is the only truth: every FD after the one recorded before the print (``fd_before``) is read back
(FF0A); a receipt document of the same total and settlement kind not claimed by another receipt is
this one's signature. Otherwise nothing was signed and the receipt goes back to ``accepted`` to be printed
again. Runs under the session's lock, before any new print (safety rule: reconcile before re-printing).
"""

from __future__ import annotations

from kkt_adapter.buffer import journal
from kkt_adapter.buffer.models import Receipt
from kkt_adapter.config import ReceiptConfig
from kkt_adapter.fiscal.document import fiscal_receipt, record_signed
from kkt_adapter.fiscal.session import DeviceSession
from kkt_adapter.kkt.types import DocumentType, FiscalResult

RECEIPT_DOCUMENT_TYPES = (DocumentType.RECEIPT, DocumentType.CORRECTION_RECEIPT)


class Reconciler:
    def __init__(self, session: DeviceSession, receipt_cfg: ReceiptConfig):
        self.session = session
        self.receipt_cfg = receipt_cfg

    def reconcile_all(self) -> None:
        """Settle every receipt in doubt (call under the session's lock, the port open)."""
        for receipt in journal.receipts_in("printing"):
            self.reconcile_one(receipt)

    def reconcile_one(self, receipt: Receipt) -> None:
        device = self.session.device
        fn = device.fn_status()
        self.session.health.set("ok", "")
        if receipt.fn_number and fn.fn_number != receipt.fn_number:
            # The FN was replaced while the receipt was in doubt: the old FN may have signed it and can
            # no longer be asked. Printing again could fiscalize it twice, so it is taken out of the
            # print path for a human to settle from the old FN's archive (correction receipt if absent).
            journal.mark_rejected(
                receipt.id,
                f"in doubt when FN {receipt.fn_number} was replaced by {fn.fn_number}: check the old FN "
                f"archive for FD > {receipt.fd_before}; issue a correction receipt if it is not there",
            )
            return
        before = receipt.fd_before if receipt.fd_before is not None else fn.last_fd
        kind = fiscal_receipt(receipt, self.receipt_cfg).kind
        for fd in range(before + 1, fn.last_fd + 1):
            doc = device.find_document(fd)
            if (
                doc.document_type in RECEIPT_DOCUMENT_TYPES
                and doc.total == receipt.total
                and doc.settlement == kind
                and not journal.fd_taken(fn.fn_number, fd, receipt.id)
            ):
                result = FiscalResult(
                    fd_number=doc.fd_number, fiscal_sign=doc.fiscal_sign, issued_at=doc.issued_at
                )
                record_signed(
                    receipt, fn.fn_number, result, via="reconcile", document_type=int(doc.document_type)
                )
                return
        if fn.open_document:
            device.cancel_receipt()
        journal.mark_not_printed(
            receipt.id,
            f"FN last FD {fn.last_fd}, recorded before print {before}: not signed",
            reconciled=True,
        )
