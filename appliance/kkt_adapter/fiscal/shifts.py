"""``Shifts``: opening a shift, X and Z reports, and the FN status for admins (each under the session lock).

A Z report settles every receipt in doubt first (it closes the shift those receipts belong to). A Z report
whose answer was lost is checked against the FN: if the shift is closed, the report happened. Right after
the Z the FN's OFD exchange status (FF39) tells how many documents still wait for the OFD (tag 1097) and
since when (1098); the shift's totals come from the journal's printed receipts. The cashier the POS sends
(tags 1021 / 1203) goes into the shift open and close reports; an X report is no FN document, so the
journal's ``x_report`` event is where its cashier is kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kkt_adapter.buffer import journal
from kkt_adapter.fiscal.reconcile import Reconciler
from kkt_adapter.fiscal.session import DeviceSession
from kkt_adapter.kkt.errors import KktError, KktTimeout
from kkt_adapter.kkt.interface import FiscalDevice
from kkt_adapter.kkt.types import Cashier, ShiftReport
from kkt_adapter.refusal import Refusal

log = logging.getLogger(__name__)


class OperationError(Refusal):
    """A shift/report operation that cannot be done now; ``code``: shift_already_open, shift_not_open."""


@dataclass(frozen=True)
class ShiftClosed:
    """A Z report for the cashier: the FN's report and when it was signed (the FN's clock; None when
    unknown), the OFD backlog the FN reported right after it (None when FF39 could not be read) and the
    shift's totals from the journal (None when the journal does not hold the shift: opened before it)."""

    report: ShiftReport
    closed_at: datetime | None
    unsent_count: int | None
    first_unsent_at: datetime | None
    totals: journal.ShiftTotals | None


@dataclass(frozen=True)
class XReport:
    """An X report for the cashier: the open shift's number and totals so far (None: not journaled)."""

    shift_number: int | None
    totals: journal.ShiftTotals | None


class Shifts:
    def __init__(self, session: DeviceSession, reconciler: Reconciler):
        self.session = session
        self.reconciler = reconciler

    def open_locked(self, cashier: Cashier | None = None) -> ShiftReport:
        """Open a shift and journal it (under the lock: also used by the printer's automatic opening)."""
        device = self.session.device
        report = device.open_shift(cashier)
        self.session.health.set("ok", "")
        self.session.health.note_shift(True)
        fn = device.fn_status()
        journal.record_shift_opened(fn.fn_number, report.shift_number, report.fd_number)
        return report

    def open_shift(self, cashier: Cashier | None = None) -> ShiftReport:
        with self.session.lock:
            if self._shift_open(self.session.ensure_open()):
                raise OperationError("a shift is already open", code="shift_already_open")
            return self.open_locked(cashier)

    def x_report(self, cashier: Cashier | None = None) -> XReport:
        with self.session.lock:
            device = self.session.ensure_open()
            if not self._shift_open(device):
                raise OperationError("no shift is open: nothing to report", code="shift_not_open")
            device.x_report()
            shift = journal.open_shift()
            number = shift.number if shift else None
            journal.record_x_report(
                number,
                cashier_name=cashier.name if cashier else None,
                cashier_inn=cashier.inn if cashier else None,
            )
            totals = journal.shift_totals(shift.fn_number, shift.number) if shift else None
            return XReport(number, totals)

    def z_report(self, cashier: Cashier | None = None) -> ShiftClosed:
        with self.session.lock:
            device = self.session.ensure_open()
            self.reconciler.reconcile_all()
            if not self._shift_open(device):
                raise OperationError("no shift is open", code="shift_not_open")
            journaled = journal.open_shift()
            try:
                report = device.z_report(cashier)
            except KktTimeout:
                fn = device.fn_status()  # did the shift close anyway?
                if fn.shift_open:
                    raise
                # The report is the FN's last document, signed a moment ago (FF01 gives the FN's clock).
                number = journaled.number if journaled else 0
                report = ShiftReport(fd_number=fn.last_fd, shift_number=number, issued_at=fn.issued_at)
            self.session.health.set("ok", "")  # a shift over 24 h is over now
            self.session.health.note_shift(False)
            fn = device.fn_status()
            journal.record_shift_closed(fn.fn_number, report.shift_number, report.fd_number)
            unsent, first_unsent_at = self._ofd_backlog(device)
            known = (
                journaled is not None
                and journaled.fn_number == fn.fn_number
                and journaled.number == report.shift_number
            )
            totals = journal.shift_totals(fn.fn_number, report.shift_number) if known else None
            return ShiftClosed(report, report.issued_at, unsent, first_unsent_at, totals)

    def _shift_open(self, device: FiscalDevice) -> bool:
        status = device.short_status()
        self.session.note_status(status)
        return status.shift_open

    def _ofd_backlog(self, device: FiscalDevice) -> tuple[int | None, datetime | None]:
        """Documents the OFD has not confirmed and the first one's time (FF39), read after a Z report. The
        shift is closed whatever happens here: a failed read answers None, never an error."""
        try:
            ofd = device.ofd_status()
        except KktError as exc:
            self.session.note_error(exc)
            log.warning("OFD exchange status not read after the Z report: %s", exc)
            return None, None
        return ofd.queue_size, ofd.first_unsent_at

    def fn_info(self) -> dict[str, Any]:
        with self.session.lock:
            device = self.session.ensure_open()
            fn = device.fn_status()
            expiry = device.fn_expiry()
            ofd = device.ofd_status()
            status = device.short_status()
            self.session.health.set("ok", "")
            self.session.health.note_shift(status.shift_open)
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
