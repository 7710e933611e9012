"""Two-phase fiscalization, phase 1: journal -> record the FN's last FD -> print -> store FD/FP.

Safety rules (../shared/domain/kkt-shtrih-protocol.md, "Duplicate-print pitfalls"):
- a receipt is journaled (fsync) under its idempotency key before the KKT hears of it;
- the FN's last FD number is recorded durably before the first fiscal command of a print;
- after a timeout, an adapter restart or any doubt, the FN is asked (FF01 / FF0A) whether the receipt was
  signed before anything is printed again; at most one receipt is ever in state ``printing``.
Only this class touches the FiscalDevice, always under ``self.device_lock`` (one owner of the port).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from kkt_adapter.buffer import deliveries, journal, storage
from kkt_adapter.buffer.models import Receipt
from kkt_adapter.config import Config
from kkt_adapter.fiscal import fn_watch, saga
from kkt_adapter.fiscal import request as receipt_request
from kkt_adapter.fiscal.kkt_health import KktHealth
from kkt_adapter.kkt.errors import KktDeviceError, KktError, KktLinkError, KktTimeout
from kkt_adapter.kkt.interface import FiscalDevice
from kkt_adapter.kkt.types import (
    Correction,
    DocumentType,
    FiscalReceipt,
    FiscalResult,
    FnStatus,
    ShiftReport,
)

log = logging.getLogger(__name__)

RECEIPT_DOCUMENT_TYPES = (DocumentType.RECEIPT, DocumentType.CORRECTION_RECEIPT)


class OperationError(Exception):
    """A shift/report operation that cannot be done now; ``code`` is the problem code for HTTP."""

    def __init__(self, status: int, code: str, detail: str):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class SignedUnjournaled:
    """A receipt the FN signed whose result the full disk would not take: answered from memory until the
    journal catches up from the FN (reconciliation on the next write or restart)."""

    fn_number: str
    result: FiscalResult
    document_type: int


@dataclass(frozen=True)
class Outcome:
    """What a receipt request produced: the HTTP status and body, and whether it was a replay."""

    status_code: int
    body: dict[str, Any]
    replayed: bool

    @property
    def kind(self) -> str:
        """printed | buffered | rejected | replayed (the metrics label)."""
        if self.replayed:
            return "replayed"
        return "rejected" if self.status_code >= 400 else self.body["status"]


def _fiscal_doc(receipt: Receipt) -> dict[str, Any] | None:
    if receipt.fiscal_status != "printed":
        return None
    return {
        "fn_number": receipt.fn_number,
        "fd_number": receipt.fd_number,
        "fiscal_sign": receipt.fiscal_sign,
        "issued_at": receipt.fiscal_datetime,
        "shift_number": receipt.shift_number,
        "total": f"{receipt.total / 100:.2f}",
    }


class FiscalService:
    def __init__(
        self,
        cfg: Config,
        device: FiscalDevice,
        *,
        health: KktHealth | None = None,
        on_print: Callable[[str, float], None] | None = None,
    ):
        self.cfg = cfg
        self.device = device
        self.health = health or KktHealth()
        self.device_lock = threading.RLock()
        self._on_print = on_print or (lambda outcome, seconds: None)
        self._device_open = False
        self._signed_unjournaled: dict[str, SignedUnjournaled] = {}

    # --- receipt requests ---------------------------------------------------------------------

    def submit(self, key: str, body: dict[str, Any], validated: receipt_request.ValidatedReceipt) -> Outcome:
        """Journal (or find) the receipt for ``key`` and drive it as far as it can go right now.

        ``storage.StorageFull`` (507) only before the receipt is journaled; once it is, every answer is 200
        (printed, with its FD, or buffered), whatever the disk says afterwards.
        """
        if journal.get_key(key) is None:
            storage.check_accepting()  # a retry of an accepted receipt still gets its answer
        accepted = journal.accept_receipt(
            key,
            body,
            pos_id=self.cfg.pos_id,
            kind=validated.kind,
            total=validated.fiscal.total,
            capacity=self.cfg.buffer.capacity,
            original_receipt_id=validated.original_receipt_id,
        )
        if not accepted.created and accepted.key.response is not None:
            stored = json.loads(accepted.key.response)
            # A final answer (printed / rejected) is replayed as stored. A stored "buffered" answer is not
            # final: the retry tries to print again and the answer moves forward to "printed".
            if stored.get("status") != "buffered":
                return Outcome(accepted.key.status_code, stored, replayed=True)
        receipt = self.print_receipt(accepted.receipt.id, wait=self.cfg.http.kkt_wait_seconds)
        outcome = self._answer(receipt, replayed=not accepted.created)
        try:
            journal.store_response(key, outcome.status_code, outcome.body)
        except storage.StorageFull:
            # The receipt itself is journaled: a retry re-derives this answer from its state.
            log.warning("answer for %s not stored (disk full)", receipt.id, extra={"RECEIPT_ID": receipt.id})
        return outcome

    def _answer(self, receipt: Receipt, replayed: bool) -> Outcome:
        if receipt.fiscal_status == "printed":
            body = {"status": "printed", "receipt_id": receipt.id, "fiscal_doc": _fiscal_doc(receipt)}
            return Outcome(200, body, replayed)
        if receipt.fiscal_status == "rejected":
            body = {
                "type": "/problems/kkt_rejected",
                "title": "The KKT refused this receipt",
                "status": 422,
                "code": "kkt_rejected",
                "detail": receipt.last_error or "rejected by the KKT",
                "receipt_id": receipt.id,
            }
            return Outcome(422, body, replayed)
        health = self.health.snapshot()
        # With a healthy link the receipt still waits when the KKT did not complete it (e.g. no answer
        # to the close command and the FN proved it unsigned): it is printed on the next round.
        code = "print_retry" if health.ok else f"kkt_{health.state}"
        detail = receipt.last_error or health.detail
        if storage.reserve_missing():
            code = "storage_full"
            detail = "the till's disk is full: the receipt is journaled and is printed once space is freed"
        body = {
            "status": "buffered",
            "receipt_id": receipt.id,
            "fiscal_doc": None,
            "reason": {"code": code, "detail": detail},
        }
        return Outcome(200, body, replayed)

    # --- printing ------------------------------------------------------------------------------

    def _ensure_open(self) -> None:
        if not self._device_open:
            self.device.open()
            self._device_open = True

    def _fiscal_receipt(self, receipt: Receipt) -> FiscalReceipt:
        stored = json.loads(receipt.fiscal_doc)["request"]
        validated = receipt_request.validate(
            stored,
            pos_id=receipt.pos_id,
            taxation_system=self.cfg.receipt.taxation_system,
            max_items=max(self.cfg.receipt.max_items, len(stored.get("items", []))),
            max_total=max(self.cfg.receipt.max_total, receipt.total),
        )
        fiscal = validated.fiscal
        changes: dict[str, Any] = {"text": f"Чек {receipt.id}"}
        if fiscal.correction is None and self._is_late(receipt):
            # Not fiscalized at the time of payment (the KKT was down): 54-FZ wants a correction receipt,
            # on own initiative (1173 = 0), based on the sale's date (1178).
            changes["correction"] = Correction(
                correction_type=0, basis_date=date.fromtimestamp(receipt.created_at), basis_number=""
            )
        return replace(fiscal, **changes)

    def _is_late(self, receipt: Receipt) -> bool:
        accepted = datetime.fromtimestamp(receipt.created_at)
        now = datetime.now()
        return (
            now - accepted
        ).total_seconds() > self.cfg.receipt.late_after_seconds or now.date() != accepted.date()

    def _note_error(self, exc: KktError) -> None:
        if isinstance(exc, KktTimeout):
            self.health.set("timeout", str(exc))
        elif isinstance(exc, KktLinkError):
            self.health.set("unreachable", str(exc))
        else:
            self.health.set("error", str(exc))
        if not isinstance(exc, KktDeviceError):
            # The link itself failed: drop the handle so the next attempt opens the port afresh (a KKT that
            # was unplugged and plugged back is a new device behind the same path).
            self._close_link()

    def _close_link(self) -> None:
        try:
            self.device.close()
        finally:
            self._device_open = False

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

    def _print_receipt(self, receipt_id: str, wait: float | None) -> Receipt:
        receipt = journal.get_receipt(receipt_id)
        if receipt.fiscal_status in ("printed", "rejected"):
            return receipt
        if wait is not None and self._known_unreachable():
            journal.note_waiting(receipt_id, self.health.snapshot().detail)
            return journal.get_receipt(receipt_id)
        if not self.device_lock.acquire(timeout=-1 if wait is None else wait):
            journal.note_waiting(receipt_id, "the KKT is busy with other receipts")
            return journal.get_receipt(receipt_id)
        try:
            receipt = journal.get_receipt(receipt_id)
            if receipt.fiscal_status in ("printed", "rejected"):
                return receipt
            started = time.monotonic()
            try:
                self._ensure_open()
                self._reconcile_all()
                receipt = journal.get_receipt(receipt_id)
                if receipt.fiscal_status != "accepted":
                    return receipt
                self._print_locked(receipt)
            except storage.StorageFull as exc:
                # Nothing was printed on a write that failed before the FN was asked to sign (start_print),
                # and a signed receipt is held by _store_signed: the receipt waits for space, journaled.
                log.warning("receipt %s waits: %s", receipt_id, exc, extra={"RECEIPT_ID": receipt_id})
            except KktError as exc:
                self._note_error(exc)
                log.warning(
                    "receipt %s not printed now: %s", receipt_id, exc, extra={"RECEIPT_ID": receipt_id}
                )
            except Exception as exc:
                # A bug or an unforeseen driver failure must not turn a journaled receipt into an error
                # answer: it stays journaled (or in doubt) and the printer/reconciliation take it from here.
                log.exception(
                    "unexpected failure while printing %s", receipt_id, extra={"RECEIPT_ID": receipt_id}
                )
                self.health.set("error", f"{type(exc).__name__}: {exc}")
                self._close_link()
            receipt = journal.get_receipt(receipt_id)
            self._on_print(receipt.fiscal_status, time.monotonic() - started)
            return receipt
        finally:
            self.device_lock.release()

    def _skip_if_unreachable(self) -> None:
        """Background device work leaves a KKT that just failed alone: only the prober knocks."""
        if self._known_unreachable():
            raise KktLinkError("the KKT did not answer within the retry interval; skipped")

    @contextmanager
    def _noting_errors(self) -> Iterator[None]:
        try:
            yield
        except KktError as exc:
            self._note_error(exc)
            raise

    def _known_unreachable(self) -> bool:
        """The KKT failed ENQ within the last retry interval: a waiting cashier is not made to wait again
        (the background printer keeps probing and prints the backlog as soon as the KKT answers)."""
        snap = self.health.snapshot()
        return (
            snap.state == "unreachable"
            and time.time() - snap.checked_at < self.cfg.kkt.retry_interval_seconds
        )

    def _ready_for_receipt(self) -> FnStatus:
        status = self.device.short_status()
        if status.paper_out:
            raise _NotReady("paper_out", "no paper in the KKT")
        if status.shift_expired:
            raise _NotReady("shift_expired", "the shift is over 24 h: close it with a Z report")
        fn = self.device.fn_status()
        if fn.open_document:
            # Left open by a crash or power loss mid-receipt: not signed, so cancelling loses nothing.
            log.warning("cancelling a receipt left open in the KKT (type %s)", fn.open_document)
            self.device.cancel_receipt()
        if not status.shift_open and not fn.shift_open:
            if not self.cfg.kkt.auto_open_shift:
                raise _NotReady("shift_closed", "no shift is open and automatic shift opening is off")
            self._open_shift_locked()
            fn = self.device.fn_status()
        return fn

    def _print_locked(self, receipt: Receipt) -> None:
        fiscal = self._fiscal_receipt(receipt)
        try:
            fn = self._ready_for_receipt()
        except _NotReady as exc:
            self.health.set(exc.state, exc.detail)
            journal.note_waiting(receipt.id, exc.detail)  # stays accepted; printed once the KKT is ready
            return
        try:
            journal.start_print(receipt.id, fn.last_fd, fn.fn_number)
        except storage.StorageFull:
            # The failed write released the reserve, whose room is for the receipt in flight: this one.
            journal.start_print(receipt.id, fn.last_fd, fn.fn_number)
        try:
            result = self.device.fiscalize(fiscal)
        except KktTimeout as exc:
            journal.mark_unknown(receipt.id, str(exc))
            self._note_error(exc)
            self._reconcile_one(journal.get_receipt(receipt.id))
            return
        except KktDeviceError as exc:
            self._note_error(exc)
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
        self.health.set("ok", "")
        document_type = DocumentType.CORRECTION_RECEIPT if fiscal.correction else DocumentType.RECEIPT
        self._store_signed(receipt, SignedUnjournaled(fn.fn_number, result, int(document_type)))

    def _store_signed(self, receipt: Receipt, signed: SignedUnjournaled) -> None:
        """Journal what the FN just signed. On a full disk the first failure released the reserve, so the
        second try normally fits; if even that fails the result is held in memory (never an error answer:
        the POS would ring the sale again under a new key) and reconciliation journals it later."""
        for attempt in (1, 2):
            try:
                self._store_result(
                    receipt, signed.fn_number, signed.result, via="print", document_type=signed.document_type
                )
                return
            except storage.StorageFull as exc:
                if attempt == 2:
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
        try:
            if self.device.fn_status().open_document:
                self.device.cancel_receipt()
        except KktError as again:
            journal.mark_unknown(receipt.id, f"{exc}; then {again}")
            return
        journal.mark_not_printed(receipt.id, str(exc), reconciled=False)
        if not getattr(exc, "retryable", True):
            journal.mark_rejected(receipt.id, exc.description, exc.code)
            saga.compensate_if_rejected(journal.get_receipt(receipt.id))

    def _store_result(
        self, receipt: Receipt, fn_number: str, result: FiscalResult, via: str, document_type: int
    ) -> None:
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

    # --- reconciliation ------------------------------------------------------------------------

    def _reconcile_all(self) -> None:
        for receipt in journal.receipts_in("printing"):
            self._reconcile_one(receipt)

    def _reconcile_one(self, receipt: Receipt) -> None:
        """Decide from the FN alone whether a receipt in ``printing`` was signed."""
        fn = self.device.fn_status()
        self.health.set("ok", "")
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
        kind = self._fiscal_receipt(receipt).kind
        for fd in range(before + 1, fn.last_fd + 1):
            doc = self.device.find_document(fd)
            if (
                doc.document_type in RECEIPT_DOCUMENT_TYPES
                and doc.total == receipt.total
                and doc.settlement == kind
                and not journal.fd_taken(fn.fn_number, fd, receipt.id)
            ):
                result = FiscalResult(
                    fd_number=doc.fd_number, fiscal_sign=doc.fiscal_sign, issued_at=doc.issued_at
                )
                self._store_result(
                    receipt, fn.fn_number, result, via="reconcile", document_type=int(doc.document_type)
                )
                return
        if fn.open_document:
            self.device.cancel_receipt()
        journal.mark_not_printed(
            receipt.id,
            f"FN last FD {fn.last_fd}, recorded before print {before}: not signed",
            reconciled=True,
        )

    def reconcile(self) -> dict[str, int]:
        """Admin/startup entry: settle every doubt, then print everything still waiting."""
        with self.device_lock:
            self._ensure_open()
            self._reconcile_all()
        return {"printed": self.print_waiting()}

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

    # --- shifts and reports -------------------------------------------------------------------

    def _open_shift_locked(self) -> ShiftReport:
        report = self.device.open_shift()
        fn = self.device.fn_status()
        journal.record_shift_opened(fn.fn_number, report.shift_number, report.fd_number)
        return report

    def open_shift(self) -> ShiftReport:
        with self.device_lock:
            self._ensure_open()
            status = self.device.short_status()
            if status.shift_open:
                raise OperationError(409, "shift_already_open", "a shift is already open")
            return self._open_shift_locked()

    def x_report(self) -> int | None:
        with self.device_lock:
            self._ensure_open()
            if not self.device.short_status().shift_open:
                raise OperationError(409, "shift_not_open", "no shift is open: nothing to report")
            self.device.x_report()
            number = journal.open_shift_number()
            journal.record_x_report(number)
            return number

    def z_report(self) -> ShiftReport:
        with self.device_lock:
            self._ensure_open()
            self._reconcile_all()
            if not self.device.short_status().shift_open:
                raise OperationError(409, "shift_not_open", "no shift is open")
            try:
                report = self.device.z_report()
            except KktTimeout:
                fn = self.device.fn_status()  # did the shift close anyway?
                if fn.shift_open:
                    raise
                report = ShiftReport(fd_number=fn.last_fd, shift_number=journal.open_shift_number() or 0)
            fn = self.device.fn_status()
            journal.record_shift_closed(fn.fn_number, report.shift_number, report.fd_number)
            return report

    def fn_info(self) -> dict[str, Any]:
        with self.device_lock:
            self._ensure_open()
            fn = self.device.fn_status()
            expiry = self.device.fn_expiry()
            ofd = self.device.ofd_status()
            status = self.device.short_status()
            self.health.set("ok", "")
            return {
                "fn_number": fn.fn_number,
                "last_fd": fn.last_fd,
                "life_phase": fn.life_phase,
                "shift_open": status.shift_open,
                "shift_expired": status.shift_expired,
                "open_document": fn.open_document,
                "warnings": fn.warnings,
                "fn_expires_on": expiry.expires_on.isoformat(),
                "ofd_queue_size": ofd.queue_size,
                "ofd_first_unsent_fd": ofd.first_unsent_fd,
                "ofd_first_unsent_at": ofd.first_unsent_at.isoformat() if ofd.first_unsent_at else None,
                "paper_out": status.paper_out,
            }

    # --- OFD relay and FN backlog (phase 2, device side) ----------------------------------------------

    def relay(self, max_documents: int = 50) -> dict[str, int]:
        """Capture FN documents not yet stored for the OFD, and hand delivered OFD acks back to the FN.

        The device lock is taken per document, so a cashier's receipt never waits behind a long backlog.
        """
        self._skip_if_unreachable()
        with self.device_lock, self._noting_errors():
            self._ensure_open()
            fn = self.device.fn_status()
            waiting = self.device.list_unconfirmed()
        known = deliveries.known_ofd_fds(fn.fn_number)
        captured = applied = 0
        for fd in [f for f in waiting if f not in known][:max_documents]:
            with self.device_lock, self._noting_errors():
                doc_type = int(self.device.find_document(fd).document_type)
                payload = self.device.read_unconfirmed_document(fd)
            captured += deliveries.capture_fn_document(fn.fn_number, fd, doc_type, payload)
        for row in deliveries.acks_to_apply(max_documents):
            if row.fn_number == fn.fn_number:
                with self.device_lock, self._noting_errors():
                    try:
                        self.device.apply_ofd_ack(row.fd, bytes(row.ack))
                    except KktDeviceError as exc:
                        log.warning("FN refused the OFD acknowledgment of FD %s: %s", row.fd, exc)
                        continue
                applied += 1
            deliveries.ack_applied(row.id)  # an FN replaced since has nothing left to confirm
        return {"captured": captured, "acks_applied": applied, "unconfirmed": len(waiting) - applied}

    def fn_backlog(self) -> fn_watch.FnBacklog:
        """Read the OFD exchange status, the FN clock and expiry; assess the 30-day block."""
        self._skip_if_unreachable()
        with self.device_lock, self._noting_errors():
            self._ensure_open()
            ofd = self.device.ofd_status()
            fn = self.device.fn_status()
            expiry = self.device.fn_expiry()
        return fn_watch.assess(
            self.cfg.fn_watch, ofd.queue_size, ofd.first_unsent_at, fn.issued_at, expiry.expires_on
        )

    def probe(self) -> None:
        """Refresh the KKT health from a short status (background; never raises)."""
        try:
            with self.device_lock:
                self._ensure_open()
                status = self.device.short_status()
            if status.paper_out:
                self.health.set("paper_out", "no paper in the KKT")
            elif status.shift_expired:
                self.health.set("shift_expired", "the shift is over 24 h: close it with a Z report")
            else:
                self.health.set("ok", "")
        except KktError as exc:
            self._note_error(exc)


class _NotReady(Exception):
    """The KKT works but cannot take a receipt now (paper, shift); the receipt waits, journaled."""

    def __init__(self, state: str, detail: str):
        super().__init__(detail)
        self.state = state
        self.detail = detail
