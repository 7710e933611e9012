"""Shtrih-M FiscalDevice: turns the vendor-neutral calls of kkt/interface.py into protocol v1 commands.

One command at a time through ``ShtrihExchange``; a receipt's commands come from ``shtrih_receipt``, cash in /
cash out and their counters from ``shtrih_cash``, shift open and the X / Z reports from ``shtrih_shift``.
Read-only commands may be re-sent by the link after a timeout; everything else raises KktTimeout, and the
caller must reconcile with FF01 (last FD) / FF0A before deciding to print again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from kkt_adapter.kkt.errors import KktDeviceError, KktError, KktProtocolError
from kkt_adapter.kkt.interface import FiscalDevice
from kkt_adapter.kkt.link import DEFAULT_BAUD
from kkt_adapter.kkt.shtrih_cash import ShtrihCash
from kkt_adapter.kkt.shtrih_documents import found_document
from kkt_adapter.kkt.shtrih_exchange import ShtrihExchange
from kkt_adapter.kkt.shtrih_receipt import RECEIPT_TYPE, receipt_plan
from kkt_adapter.kkt.shtrih_shift import ShtrihShift
from kkt_adapter.kkt.types import (
    DeviceInfo,
    FiscalReceipt,
    FiscalResult,
    FnExpiry,
    FnStatus,
    FoundDocument,
    OfdStatus,
    ShortStatus,
    Timeouts,
)
from kkt_adapter.shtrih import commands as cmd

log = logging.getLogger(__name__)


class ShtrihDriver(ShtrihCash, ShtrihShift, FiscalDevice):
    """Shtrih-M protocol v1 over a serial port (or a pseudo-terminal from the emulator); cash in / cash out
    come from ``ShtrihCash``, the shift and its reports from ``ShtrihShift``."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = DEFAULT_BAUD,
        password: int = cmd.DEFAULT_PASSWORD,  # 30 = system administrator, allowed for every command
        timeouts: Timeouts | None = None,
    ):
        self.exchange = ShtrihExchange(port, baudrate, password, timeouts or Timeouts())
        self.timeouts = self.exchange.timeouts
        self.password = password
        self._call = self.exchange.call

    @property
    def port(self) -> str:
        return self.exchange.link.port

    @property
    def stale_answers(self) -> int:
        """Answers of earlier, abandoned exchanges that the link read and discarded (diagnostics)."""
        return self.exchange.link.stale_answers

    def open(self) -> None:
        self.exchange.link.open()

    def close(self) -> None:
        self.exchange.link.close()

    def __enter__(self) -> ShtrihDriver:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- status ----------------------------------------------------------------------------------

    def short_status(self) -> ShortStatus:
        a = self._call(cmd.SHORT_STATUS)
        return ShortStatus(mode=a["mode"], submode=a["submode"], flags=a["flags"], operator=a["operator"])

    def device_info(self) -> DeviceInfo:
        a = self._call(cmd.DEVICE_TYPE)
        return DeviceInfo(
            device_type=a["device_type"],
            device_subtype=a["device_subtype"],
            protocol_version=a["protocol_version"],
            protocol_subversion=a["protocol_subversion"],
            model=a["model"],
            language=a["language"],
            name=a["name"],
        )

    def fn_status(self) -> FnStatus:
        a = self._call(cmd.FN_STATUS)
        return FnStatus(
            life_phase=a["life_phase"],
            open_document=a["current_document"],
            shift_open=bool(a["shift_state"]),
            warnings=a["warnings"],
            issued_at=a["now"] or datetime(2000, 1, 1),
            fn_number=a["fn_number"],
            last_fd=a["last_fd"],
        )

    def fn_expiry(self) -> FnExpiry:
        a = self._call(cmd.FN_EXPIRY)
        if a["expires_on"] is None:
            raise KktProtocolError("FN reported no expiry date")
        return FnExpiry(expires_on=a["expires_on"], registrations_left=a["registrations_left"])

    def ofd_status(self) -> OfdStatus:
        a = self._call(cmd.OFD_STATUS)
        queue = a["queue_size"]
        return OfdStatus(
            queue_size=queue,
            first_unsent_fd=a["first_fd"] if queue else 0,
            first_unsent_at=a["first_at"] if queue else None,
        )

    def unconfirmed_count(self) -> int:
        return self._call(cmd.UNCONFIRMED_COUNT)["count"]

    def find_document(self, fd_number: int) -> FoundDocument:
        return found_document(self._call(cmd.FIND_DOCUMENT, fd_number=fd_number), fd_number)

    # ---- receipts --------------------------------------------------------------------------------

    def fiscalize(self, receipt: FiscalReceipt) -> FiscalResult:
        """Open, fill and close one receipt.

        Raises ValueError before sending anything when the receipt cannot be encoded. On KktDeviceError after
        the receipt was opened the driver cancels it (best effort: a refused command was not executed, so the
        half-built receipt is of no use). On KktTimeout nothing more is sent: the caller reconciles.
        """
        plan = receipt_plan(
            receipt, self.password
        )  # encode everything first: nothing is sent if any value is bad
        self._call(cmd.OPEN_RECEIPT, receipt_type=RECEIPT_TYPE[receipt.kind])
        try:
            for command, values in plan:
                if command is cmd.CLOSE_RECEIPT_V2:
                    a = self._call(command, **values)
                    return FiscalResult(
                        fd_number=a["fd_number"],
                        fiscal_sign=a["fiscal_sign"],
                        issued_at=a["issued_at"] or datetime(2000, 1, 1),
                        change=a["change"],
                    )
                self._call(command, **values)
        except KktDeviceError:
            self._cancel_quietly()
            raise
        raise AssertionError("receipt plan has no closing command")  # pragma: no cover

    def cancel_receipt(self) -> None:
        self._call(cmd.CANCEL_RECEIPT)

    def _cancel_quietly(self) -> None:
        try:
            self.cancel_receipt()
        except KktError as exc:
            log.warning("could not cancel the open receipt after a device error: %s", exc)

    # ---- OFD relay (modelled commands FFD0..FFD2; vendor-specific on real devices) ----------------

    def list_unconfirmed(self) -> list[int]:
        """FD numbers the OFD has not confirmed yet, oldest first."""
        fds: list[int] = []
        while True:
            a = self._call(cmd.LIST_UNCONFIRMED, start=len(fds))
            fds.extend(a["fds"])
            if not a["fds"] or len(fds) >= a["total"]:
                return fds

    def read_unconfirmed_document(self, fd_number: int) -> bytes:
        """The FN's message for the OFD for one unconfirmed document (FFD TLV bytes), read in chunks."""
        data = bytearray()
        while True:
            a = self._call(cmd.READ_UNCONFIRMED, fd_number=fd_number, offset=len(data))
            if a["fd_number"] != fd_number:
                raise KktProtocolError(f"asked for FD {fd_number}, got FD {a['fd_number']}")
            data += a["chunk"]
            if not a["chunk"] or len(data) >= a["size"]:
                return bytes(data[: a["size"]])

    def apply_ofd_ack(self, fd_number: int, ack: bytes) -> None:
        """Hand the OFD's acknowledgment for one document to the FN (idempotent for a confirmed FD)."""
        if not ack or len(ack) > cmd.OFD_ACK_MAX:
            raise ValueError(f"an OFD acknowledgment must be 1..{cmd.OFD_ACK_MAX} bytes")
        self._call(cmd.APPLY_OFD_ACK, fd_number=fd_number, ack=bytes(ack))
