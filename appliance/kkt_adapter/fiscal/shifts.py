"""``Shifts``: opening a shift, X and Z reports, and the FN status for admins (each under the session lock).

A Z report settles every receipt in doubt first (it closes the shift those receipts belong to). A Z report
whose answer was lost is checked against the FN: if the shift is closed, the report happened.
"""

from __future__ import annotations

from typing import Any

from kkt_adapter.buffer import journal
from kkt_adapter.fiscal.reconcile import Reconciler
from kkt_adapter.fiscal.session import DeviceSession
from kkt_adapter.kkt.errors import KktTimeout
from kkt_adapter.kkt.types import ShiftReport
from kkt_adapter.refusal import Refusal


class OperationError(Refusal):
    """A shift/report operation that cannot be done now; ``code``: shift_already_open, shift_not_open."""


class Shifts:
    def __init__(self, session: DeviceSession, reconciler: Reconciler):
        self.session = session
        self.reconciler = reconciler

    def open_locked(self) -> ShiftReport:
        """Open a shift and journal it (under the lock: also used by the printer's automatic opening)."""
        device = self.session.device
        report = device.open_shift()
        fn = device.fn_status()
        journal.record_shift_opened(fn.fn_number, report.shift_number, report.fd_number)
        return report

    def open_shift(self) -> ShiftReport:
        with self.session.lock:
            if self.session.ensure_open().short_status().shift_open:
                raise OperationError("a shift is already open", code="shift_already_open")
            return self.open_locked()

    def x_report(self) -> int | None:
        with self.session.lock:
            device = self.session.ensure_open()
            if not device.short_status().shift_open:
                raise OperationError("no shift is open: nothing to report", code="shift_not_open")
            device.x_report()
            number = journal.open_shift_number()
            journal.record_x_report(number)
            return number

    def z_report(self) -> ShiftReport:
        with self.session.lock:
            device = self.session.ensure_open()
            self.reconciler.reconcile_all()
            if not device.short_status().shift_open:
                raise OperationError("no shift is open", code="shift_not_open")
            try:
                report = device.z_report()
            except KktTimeout:
                fn = device.fn_status()  # did the shift close anyway?
                if fn.shift_open:
                    raise
                report = ShiftReport(fd_number=fn.last_fd, shift_number=journal.open_shift_number() or 0)
            fn = device.fn_status()
            journal.record_shift_closed(fn.fn_number, report.shift_number, report.fd_number)
            return report

    def fn_info(self) -> dict[str, Any]:
        with self.session.lock:
            device = self.session.ensure_open()
            fn = device.fn_status()
            expiry = device.fn_expiry()
            ofd = device.ofd_status()
            status = device.short_status()
            self.session.health.set("ok", "")
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
