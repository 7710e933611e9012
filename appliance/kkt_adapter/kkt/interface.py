"""The one interface the adapter uses to talk to a fiscal register, whatever its vendor."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date

from kkt_adapter.kkt.types import (
    CashCounters,
    CashDocument,
    Cashier,
    DeviceInfo,
    FiscalReceipt,
    FiscalResult,
    FnExpiry,
    FnStatus,
    FoundDocument,
    OfdStatus,
    ShiftReport,
    ShortStatus,
)


class FiscalDevice(ABC):
    """Fiscal operations of one KKT. Implementations are NOT thread-safe: the caller serialises access.

    Every method raises a subclass of ``kkt_adapter.kkt.errors.KktError`` on failure.
    """

    @abstractmethod
    def open(self) -> None:
        """Open the link (serial port). Idempotent."""

    @abstractmethod
    def close(self) -> None:
        """Close the link. Idempotent."""

    @abstractmethod
    def short_status(self) -> ShortStatus: ...

    @abstractmethod
    def device_info(self) -> DeviceInfo: ...

    @abstractmethod
    def open_shift(self, cashier: Cashier | None = None) -> ShiftReport:
        """Open a shift; the shift open report carries the cashier (tags 1021 / 1203) when given."""

    @abstractmethod
    def x_report(self) -> None: ...

    @abstractmethod
    def z_report(self, cashier: Cashier | None = None) -> ShiftReport:
        """Close the shift (Z report); the shift close report carries the cashier when given."""

    @abstractmethod
    def fiscalize(self, receipt: FiscalReceipt) -> FiscalResult:
        """Open, fill and close one receipt. On KktTimeout the receipt may be printed, open or absent."""

    @abstractmethod
    def cancel_receipt(self) -> None:
        """Cancel the receipt currently open in the device (no-op error if none is open)."""

    # --- cash in / cash out (not fiscal documents: the FN signs nothing, the KKT counts and prints them)

    @abstractmethod
    def cash_in(self, amount: int) -> CashDocument:
        """Record ``amount`` kopecks put into the drawer. On KktTimeout it may or may not be recorded: the
        caller compares ``cash_counters()`` with the ones read before, never sends it again blindly."""

    @abstractmethod
    def cash_out(self, amount: int) -> CashDocument:
        """Record ``amount`` kopecks taken from the drawer; ``KktInsufficientCash`` when the drawer holds
        less. On KktTimeout: as ``cash_in``."""

    @abstractmethod
    def cash_counters(self) -> CashCounters: ...

    @abstractmethod
    def cash_in_drawer(self) -> int:
        """Kopecks in the drawer as the KKT counts them (cash sales and cash in less refunds and cash out)."""

    @abstractmethod
    def fn_status(self) -> FnStatus: ...

    @abstractmethod
    def fn_expiry(self) -> FnExpiry: ...

    @abstractmethod
    def ofd_status(self) -> OfdStatus: ...

    @abstractmethod
    def unconfirmed_count(self) -> int: ...

    @abstractmethod
    def find_document(self, fd_number: int) -> FoundDocument: ...

    # --- OFD relay: the till carries the FN's documents to the OFD and its acknowledgments back.
    # Vendor-specific on real devices (modelled by the emulator as FFD0..FFD2).

    @abstractmethod
    def list_unconfirmed(self) -> list[int]:
        """FD numbers of documents the OFD has not confirmed yet, oldest first."""

    @abstractmethod
    def read_unconfirmed_document(self, fd_number: int) -> bytes:
        """The FN's message for the OFD for one unconfirmed document."""

    @abstractmethod
    def apply_ofd_ack(self, fd_number: int, ack: bytes) -> None:
        """Hand the OFD's acknowledgment to the FN (idempotent); the FN's unconfirmed count drops."""

    def fn_expires_on(self) -> date:
        return self.fn_expiry().expires_on
