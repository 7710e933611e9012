"""``FiscalService``: the receipt requests of the POS, and the one door to the fiscal parts behind it.

``submit`` journals a receipt under its idempotency key (fsync, before the KKT hears of it) and drives it
as far as it can go now; the work itself is done by one part per job, all sharing one ``DeviceSession``
(the only owner of the port): ``ReceiptPrinter`` (printing), ``Reconciler`` (doubts), ``Shifts`` (shift,
X/Z, FN status), ``OfdRelay`` (FN documents and OFD acks) and ``CashDesk`` (cash in / cash out). The
methods below are the adapter's use of them (web views, background loops, drain).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kkt_adapter.buffer import journal, storage
from kkt_adapter.buffer.models import Receipt
from kkt_adapter.config import Config
from kkt_adapter.fiscal import fn_watch
from kkt_adapter.fiscal import request as receipt_request
from kkt_adapter.fiscal.cash import CashDesk
from kkt_adapter.fiscal.document import typed_columns
from kkt_adapter.fiscal.printer import ReceiptPrinter
from kkt_adapter.fiscal.reconcile import Reconciler
from kkt_adapter.fiscal.relay import OfdRelay
from kkt_adapter.fiscal.session import DeviceSession
from kkt_adapter.fiscal.shifts import ShiftClosed, Shifts, XReport
from kkt_adapter.kkt.interface import FiscalDevice
from kkt_adapter.kkt.types import Cashier, ShiftReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a receipt request produced. Either a fresh answer — ``status`` printed | buffered (``body`` is
    the answer) or rejected (``body`` holds ``receipt_id`` and ``detail``) — or, in ``stored``, the final
    answer given earlier for this key, exactly as it was sent (HTTP status and body), to replay as is."""

    status: str
    body: dict[str, Any]
    replayed: bool
    stored: tuple[int, dict[str, Any]] | None = None

    @property
    def kind(self) -> str:
        """printed | buffered | rejected | replayed (the metrics label)."""
        return "replayed" if self.replayed else self.status


def _fiscal_doc(receipt: Receipt) -> dict[str, Any]:
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
        self, cfg: Config, device: FiscalDevice, *, on_print: Callable[[str, float], None] | None = None
    ):
        self.cfg = cfg
        self.session = DeviceSession(device, cfg.kkt.retry_interval_seconds)
        self.reconciler = Reconciler(self.session, cfg.receipt)
        self.shifts = Shifts(self.session, self.reconciler)
        self.printer = ReceiptPrinter(
            cfg, self.session, self.reconciler, self.shifts, on_print or (lambda status, seconds: None)
        )
        self.ofd_relay = OfdRelay(self.session, cfg.fn_watch)
        self.cash = CashDesk(cfg, self.session, self.reconciler, self.shifts)
        self.health = self.session.health
        self.device_lock = self.session.lock

    # --- receipt requests ---------------------------------------------------------------------

    def submit(self, key: str, body: dict[str, Any], validated: receipt_request.ValidatedReceipt) -> Outcome:
        """Journal (or find) the receipt for ``key`` and drive it as far as it can go right now.

        ``storage.StorageFull`` only before the receipt is journaled; once it is, every answer is printed
        (with its FD) or buffered, whatever the disk says afterwards.
        """
        if journal.get_key(key) is None:
            storage.check_accepting()  # a retry of an accepted receipt still gets its answer
        typed, lines = typed_columns(validated.fiscal)
        accepted = journal.accept_receipt(
            key,
            body,
            pos_id=self.cfg.pos_id,
            kind=validated.kind,
            total=validated.fiscal.total,
            capacity=self.cfg.buffer.capacity,
            typed=typed,
            lines=lines,
            original_receipt_id=validated.original_receipt_id,
        )
        if not accepted.created and accepted.key.response is not None:
            stored = json.loads(accepted.key.response)
            # A final answer (printed / rejected) is replayed as stored. A stored "buffered" answer is not
            # final: the retry tries to print again and the answer moves forward to "printed".
            if stored.get("status") != "buffered":
                return Outcome("replayed", stored, True, stored=(accepted.key.status_code, stored))
        receipt = self.printer.print_receipt(accepted.receipt.id, wait=self.cfg.http.kkt_wait_seconds)
        return self._answer(receipt, replayed=not accepted.created)

    def _answer(self, receipt: Receipt, replayed: bool) -> Outcome:
        if receipt.fiscal_status == "printed":
            body = {"status": "printed", "receipt_id": receipt.id, "fiscal_doc": _fiscal_doc(receipt)}
            return Outcome("printed", body, replayed)
        if receipt.fiscal_status == "rejected":
            body = {"receipt_id": receipt.id, "detail": receipt.last_error or "rejected by the KKT"}
            return Outcome("rejected", body, replayed)
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
        return Outcome("buffered", body, replayed)

    # --- the parts, as the adapter uses them ----------------------------------------------------

    def print_receipt(self, receipt_id: str, wait: float | None = None) -> Receipt:
        return self.printer.print_receipt(receipt_id, wait)

    def print_waiting(self, limit: int = 50) -> int:
        return self.printer.print_waiting(limit)

    def reconcile(self) -> dict[str, int]:
        """Admin/startup entry: settle every doubt, then print everything still waiting."""
        with self.session.lock:
            self.session.ensure_open()
            self.reconciler.reconcile_all()
            self.cash.settle()
        return {"printed": self.printer.print_waiting()}

    def open_shift(self, cashier: Cashier | None = None) -> ShiftReport:
        return self.shifts.open_shift(cashier)

    def x_report(self, cashier: Cashier | None = None) -> XReport:
        return self.shifts.x_report(cashier)

    def z_report(self, cashier: Cashier | None = None) -> ShiftClosed:
        with self.session.lock:
            self.cash.settle()  # cash operations in doubt belong to the shift this report closes
            return self.shifts.z_report(cashier)

    def fn_info(self) -> dict[str, Any]:
        return self.shifts.fn_info()

    def relay(self, max_documents: int = 50) -> dict[str, int]:
        return self.ofd_relay.relay(max_documents)

    def fn_backlog(self) -> fn_watch.FnBacklog:
        return self.ofd_relay.fn_backlog()

    def probe(self) -> None:
        self.session.probe()
