"""``ReceiptPrinter``: phase 1 of fiscalization — journal -> record the FN's last FD -> print -> store FD/FP.

Safety rules (../shared/domain/kkt-shtrih-protocol.md, "Duplicate-print pitfalls"):
- the FN's last FD number is recorded durably before the first fiscal command of a print;
- after a timeout, an adapter restart or any doubt, the FN is asked (FF01 / FF0A) whether the receipt was
  signed before anything is printed again (``Reconciler``); at most one receipt is ever in ``printing``;
- a receipt the FN signed is never answered as an error: if even the disk-full reserve cannot take its
  result, it is held in memory and reconciliation journals it later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from kkt_adapter.buffer import journal, storage
from kkt_adapter.buffer.models import Receipt
from kkt_adapter.config import Config
from kkt_adapter.fiscal import saga
from kkt_adapter.fiscal.document import fiscal_receipt, record_signed
from kkt_adapter.fiscal.reconcile import Reconciler
from kkt_adapter.fiscal.session import PAPER_OUT, SHIFT_EXPIRED, DeviceSession
from kkt_adapter.fiscal.shifts import Shifts
from kkt_adapter.kkt.errors import KktDeviceError, KktError, KktTimeout
from kkt_adapter.kkt.types import Cashier, DocumentType, FiscalResult, FnStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedUnjournaled:
    """A receipt the FN signed whose result the full disk would not take: answered from memory until the
    journal catches up from the FN (reconciliation on the next write or restart)."""

    fn_number: str
    result: FiscalResult
    document_type: int


class _NotReady(Exception):
    """The KKT works but cannot take a receipt now (paper, shift); the receipt waits, journaled."""

    def __init__(self, state: str, detail: str):
        super().__init__(detail)
        self.state = state
        self.detail = detail


class ReceiptPrinter:
    def __init__(
        self,
        cfg: Config,
        session: DeviceSession,
        reconciler: Reconciler,
        shifts: Shifts,
        on_print: Callable[[str, float], None],
    ):
        self.cfg = cfg
        self.session = session
        self.reconciler = reconciler
        self.shifts = shifts
        self._on_print = on_print  # (fiscal_status, seconds) after every print attempt
        self._signed_unjournaled: dict[str, SignedUnjournaled] = {}

    def print_receipt(self, receipt_id: str, wait: float | None = None) -> Receipt:
        """Bring one receipt as far as possible: reconcile any doubt, then print it once.

        ``wait`` bounds how long to queue behind another print (None = as long as it takes); when it
        runs out the receipt is returned as it is (journaled, not printed) for the background printer.
        A receipt the FN signed while the disk was full comes back as printed, from memory, until the
        journal has caught up from the FN.
        """
        receipt = self._print_receipt(receipt_id, wait)
        signed = self._signed_unjournaled.get(receipt_id)
        if signed is None:
            return receipt
        if receipt.fiscal_status != "printing":
            self._signed_unjournaled.pop(receipt_id, None)  # the journal caught up
            return receipt
        receipt.fiscal_status = "printed"  # in memory only: the row stays "printing" until reconciled
        receipt.fn_number = signed.fn_number
        receipt.fd_number = signed.result.fd_number
        receipt.fiscal_sign = signed.result.fiscal_sign
        receipt.fiscal_datetime = signed.result.issued_at.isoformat()
        receipt.shift_number = journal.open_shift_number()
        return receipt

    def print_waiting(self, limit: int = 50) -> int:
        """Print journaled receipts that are not printed yet, oldest (HLC) first; returns how many printed."""
        printed = 0
        for receipt in journal.receipts_in("printing", limit) + journal.receipts_in("accepted", limit):
            result = self.print_receipt(receipt.id)
            if result.fiscal_status == "printed":
                printed += 1
            elif result.fiscal_status != "rejected":
                break  # the KKT is not ready: keep the order, try again on the next round
        return printed

    def _print_receipt(self, receipt_id: str, wait: float | None) -> Receipt:
        session = self.session
        receipt = journal.get_receipt(receipt_id)
        if receipt.fiscal_status in ("printed", "rejected"):
            return receipt
        if wait is not None and session.known_unreachable():
            journal.note_waiting(receipt_id, session.health.snapshot().detail)
            return journal.get_receipt(receipt_id)
        if not session.lock.acquire(timeout=-1 if wait is None else wait):
            journal.note_waiting(receipt_id, "the KKT is busy with other receipts")
            return journal.get_receipt(receipt_id)
        try:
            receipt = journal.get_receipt(receipt_id)
            if receipt.fiscal_status in ("printed", "rejected"):
                return receipt
            started = time.monotonic()
            try:
                session.ensure_open()
                self.reconciler.reconcile_all()
                receipt = journal.get_receipt(receipt_id)
                if receipt.fiscal_status != "accepted":
                    return receipt
                self._print_locked(receipt)
            except storage.StorageFull as exc:
                # Nothing was printed on a write that failed before the FN was asked to sign (start_print),
                # and a signed receipt is held by _store_signed: the receipt waits for space, journaled.
                log.warning("receipt %s waits: %s", receipt_id, exc, extra={"RECEIPT_ID": receipt_id})
            except KktError as exc:
                session.note_error(exc)
                log.warning(
                    "receipt %s not printed now: %s", receipt_id, exc, extra={"RECEIPT_ID": receipt_id}
                )
            except Exception as exc:
                # A bug or an unforeseen driver failure must not turn a journaled receipt into an error
                # answer: it stays journaled (or in doubt) and the printer/reconciliation take it from here.
                log.exception(
                    "unexpected failure while printing %s", receipt_id, extra={"RECEIPT_ID": receipt_id}
                )
                session.health.set("error", f"{type(exc).__name__}: {exc}")
                session.close_link()
            receipt = journal.get_receipt(receipt_id)
            self._on_print(receipt.fiscal_status, time.monotonic() - started)
            return receipt
        finally:
            session.lock.release()

    def _ready_for_receipt(self, cashier: Cashier | None) -> FnStatus:
        device = self.session.device
        status = device.short_status()
        self.session.health.note_shift(status.shift_open)
        if status.paper_out:
            raise _NotReady(*PAPER_OUT)
        if status.shift_expired:
            raise _NotReady(*SHIFT_EXPIRED)
        fn = device.fn_status()
        if fn.open_document:
            # Left open by a crash or power loss mid-receipt: not signed, so cancelling loses nothing.
            log.warning("cancelling a receipt left open in the KKT (type %s)", fn.open_document)
            device.cancel_receipt()
        if not status.shift_open and not fn.shift_open:
            if not self.cfg.kkt.auto_open_shift:
                raise _NotReady("shift_closed", "no shift is open and automatic shift opening is off")
            self.shifts.open_locked(cashier)  # the receipt's cashier opens the shift
            fn = device.fn_status()
        return fn

    def _print_locked(self, receipt: Receipt) -> None:
        fiscal = fiscal_receipt(receipt, self.cfg.receipt)
        try:
            fn = self._ready_for_receipt(fiscal.cashier)
        except _NotReady as exc:
            self.session.health.set(exc.state, exc.detail)
            journal.note_waiting(receipt.id, exc.detail)  # stays accepted; printed once the KKT is ready
            return
        storage.retry_once_if_full(lambda: journal.start_print(receipt.id, fn.last_fd, fn.fn_number))
        try:
            result = self.session.device.fiscalize(fiscal)
        except KktTimeout as exc:
            journal.mark_unknown(receipt.id, str(exc))
            self.session.note_error(exc)
            self.reconciler.reconcile_one(journal.get_receipt(receipt.id))
            return
        except KktDeviceError as exc:
            self.session.note_error(exc)
            self._after_device_error(receipt, exc)
            return
        except ValueError as exc:
            # The driver refused to encode the receipt before sending a byte: retries cannot help.
            journal.mark_not_printed(receipt.id, str(exc), reconciled=False)
            journal.mark_rejected(receipt.id, str(exc))
            saga.compensate_if_rejected(journal.get_receipt(receipt.id))
            return
        except KktError as exc:
            # Link lost before a command could be sent: the sequence was cut, nothing was signed, but a
            # receipt may be open in the device; reconciliation decides once the link is back.
            journal.mark_unknown(receipt.id, str(exc))
            raise
        self.session.health.set("ok", "")
        document_type = DocumentType.CORRECTION_RECEIPT if fiscal.correction else DocumentType.RECEIPT
        self._store_signed(receipt, SignedUnjournaled(fn.fn_number, result, int(document_type)))

    def _store_signed(self, receipt: Receipt, signed: SignedUnjournaled) -> None:
        """Journal what the FN just signed (a second try fits into the released reserve); if even that
        fails the result is held in memory (never an error answer: the POS would ring the sale again under
        a new key) and reconciliation journals it later."""
        try:
            storage.retry_once_if_full(
                lambda: record_signed(
                    receipt, signed.fn_number, signed.result, via="print", document_type=signed.document_type
                )
            )
        except storage.StorageFull as exc:
            self._signed_unjournaled[receipt.id] = signed
            log.critical(
                "receipt %s signed by the FN as FD %s but not journaled: %s; the journal catches "
                "up from the FN on the next write or restart",
                receipt.id,
                signed.result.fd_number,
                exc,
                extra={"RECEIPT_ID": receipt.id, "FD": signed.result.fd_number},
            )

    def _after_device_error(self, receipt: Receipt, exc: KktDeviceError) -> None:
        device = self.session.device
        try:
            if device.fn_status().open_document:
                device.cancel_receipt()
        except KktError as again:
            journal.mark_unknown(receipt.id, f"{exc}; then {again}")
            return
        journal.mark_not_printed(receipt.id, str(exc), reconciled=False)
        if not getattr(exc, "retryable", True):
            journal.mark_rejected(receipt.id, exc.description, exc.code)
            saga.compensate_if_rejected(journal.get_receipt(receipt.id))
