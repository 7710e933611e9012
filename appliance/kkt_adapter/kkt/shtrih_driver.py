"""Shtrih-M FiscalDevice: turns the vendor-neutral calls of kkt/interface.py into protocol v1 commands.

A receipt is 8D (open) -> FF0C (document TLVs: 1008, 1173/1174) -> per item FF4D (2108) then FF46 -> FF45.
Read-only commands may be re-sent by the link after a timeout; everything else raises KktTimeout, and the
caller must reconcile with FF01 (last FD) / FF0A before deciding to print again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from kkt_adapter.kkt.errors import KktDeviceError, KktError, KktProtocolError, KktTimeout
from kkt_adapter.kkt.interface import FiscalDevice
from kkt_adapter.kkt.link import DEFAULT_BAUD, ShtrihLink
from kkt_adapter.kkt.types import (
    VAT_CODES,
    DeviceInfo,
    DocumentType,
    FiscalItem,
    FiscalReceipt,
    FiscalResult,
    FnExpiry,
    FnStatus,
    FoundDocument,
    OfdStatus,
    SettlementKind,
    ShiftReport,
    ShortStatus,
    Timeouts,
)
from kkt_adapter.shtrih import codec
from kkt_adapter.shtrih import commands as cmd
from kkt_adapter.shtrih.codec import CodecError
from kkt_adapter.shtrih.errors import RECEIPT_DATA_ERRORS, describe

log = logging.getLogger(__name__)

#: 8D receipt type for each settlement kind (FFD 1054 -> Shtrih document type).
RECEIPT_TYPE: dict[SettlementKind, int] = {
    SettlementKind.SALE: 0,
    SettlementKind.PURCHASE: 1,
    SettlementKind.SALE_RETURN: 2,
    SettlementKind.PURCHASE_RETURN: 3,
}

#: FF46 tax-rate byte for each FFD 1199 VAT code. This project sends the 1199 code itself (the emulator
#: understands it). Firmware expecting its own tax-group numbering or bitmask is adapted HERE, nowhere else.
WIRE_TAX_RATE: dict[int, int] = {code: code for code in VAT_CODES}

PAYMENT_CASH = 0  # FF45 payment slot of tag 1031
PAYMENT_ELECTRONIC = 1  # FF45 payment slot of tag 1081

TAG_BUYER_CONTACT = 1008
TAG_CORRECTION_TYPE = 1173
TAG_CORRECTION_BASIS = 1174
TAG_BASIS_DATE = 1178
TAG_BASIS_NUMBER = 1179
TAG_MEASURE_UNIT = 2108


class ShtrihDriver(FiscalDevice):
    """Shtrih-M protocol v1 over a serial port (or a pseudo-terminal from the emulator)."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = DEFAULT_BAUD,
        password: int = cmd.DEFAULT_PASSWORD,  # 30 = system administrator, allowed for every command
        timeouts: Timeouts | None = None,
    ):
        self.timeouts = timeouts or Timeouts()
        self.password = password
        self._link = ShtrihLink(port, baudrate, self.timeouts)
        # Per-command answer timeouts: Timeouts.extra keys are hex codes such as "FF45" or "E0".
        self._answer_timeouts = {
            cmd.parse_code(key): float(value) for key, value in self.timeouts.extra.items()
        }

    @property
    def port(self) -> str:
        return self._link.port

    @property
    def stale_answers(self) -> int:
        """Answers of earlier, abandoned exchanges that the link read and discarded (diagnostics)."""
        return self._link.stale_answers

    # ---- lifecycle -------------------------------------------------------------------------------

    def open(self) -> None:
        self._link.open()

    def close(self) -> None:
        self._link.close()

    def __enter__(self) -> ShtrihDriver:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the one exchange helper -----------------------------------------------------------------

    def _call(self, command: cmd.Command, **values: Any) -> dict[str, Any]:
        """Send one command; return its decoded answer or raise KktDeviceError for a non-zero error byte."""
        if not self._link.is_open:
            self._link.open()
        body = cmd.build_request(command, self.password, **values)
        answer = self._link.transact(
            body,
            read_only=command.read_only,
            answer_timeout=self._answer_timeouts.get(command.code),
        )
        try:
            error, data = cmd.parse_answer(command, answer)
        except CodecError as exc:
            if command.read_only:
                raise KktProtocolError(f"malformed answer to 0x{command.code:X}: {exc}") from exc
            # The device answered, so it executed the command; only its result is unreadable.
            raise KktTimeout(f"unreadable answer to 0x{command.code:X}: {exc}", command=command.code) from exc
        if error:
            raise KktDeviceError(
                command.code, error, describe(error), retryable=error not in RECEIPT_DATA_ERRORS
            )
        return data

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
        a = self._call(cmd.FIND_DOCUMENT, fd_number=fd_number)
        doc_type = a["document_type"]
        try:
            typed: DocumentType | int = DocumentType(doc_type)
        except ValueError:
            typed = doc_type
        try:
            if doc_type in (DocumentType.RECEIPT, DocumentType.CORRECTION_RECEIPT):
                d = cmd.FOUND_RECEIPT.unpack(a["data"])
            elif doc_type in (DocumentType.SHIFT_OPEN, DocumentType.SHIFT_CLOSE):
                d = cmd.FOUND_SHIFT.unpack(a["data"])
            else:
                d = cmd.FOUND_OTHER.unpack(a["data"])
        except CodecError as exc:
            raise KktProtocolError(f"malformed FF0A data for FD {fd_number}: {exc}") from exc
        return FoundDocument(
            fd_number=d["fd_number"],
            document_type=typed,
            ofd_confirmed=bool(a["ofd_confirmed"]),
            issued_at=d["issued_at"] or datetime(2000, 1, 1),
            fiscal_sign=d["fiscal_sign"],
            settlement=d.get("settlement"),
            total=d.get("total"),
        )

    # ---- shift -----------------------------------------------------------------------------------

    def open_shift(self) -> ShiftReport:
        self._call(cmd.OPEN_SHIFT)
        return self._last_shift_report(cmd.OPEN_SHIFT, DocumentType.SHIFT_OPEN)

    def x_report(self) -> None:
        self._call(cmd.X_REPORT)

    def z_report(self) -> ShiftReport:
        self._call(cmd.Z_REPORT)
        return self._last_shift_report(cmd.Z_REPORT, DocumentType.SHIFT_CLOSE)

    def _last_shift_report(self, done: cmd.Command, expected: DocumentType) -> ShiftReport:
        """Read back the report just signed: FF01 gives its FD number, FF0A its shift number and sign.

        The report itself succeeded, so a failed read-back is reported as KktTimeout (reconcile), never as an
        error that would mean "not executed".
        """
        try:
            last_fd = self.fn_status().last_fd
            a = self._call(cmd.FIND_DOCUMENT, fd_number=last_fd)
            if a["document_type"] != expected:
                raise KktProtocolError(
                    f"last FD {last_fd} has type {a['document_type']}, not {int(expected)}"
                )
            d = cmd.FOUND_SHIFT.unpack(a["data"])
        except (KktError, CodecError) as exc:
            raise KktTimeout(f"{done.name} done but its read-back failed: {exc}", command=done.code) from exc
        return ShiftReport(
            fd_number=last_fd,
            shift_number=d["shift_number"],
            issued_at=d["issued_at"],
            fiscal_sign=d["fiscal_sign"],
        )

    # ---- receipts --------------------------------------------------------------------------------

    def fiscalize(self, receipt: FiscalReceipt) -> FiscalResult:
        """Open, fill and close one receipt.

        Raises ValueError before sending anything when the receipt cannot be encoded. On KktDeviceError after
        the receipt was opened the driver cancels it (best effort: a refused command was not executed, so the
        half-built receipt is of no use). On KktTimeout nothing more is sent: the caller reconciles.
        """
        plan = self._receipt_plan(receipt)  # encode everything first: nothing is sent if any value is bad
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

    def _receipt_plan(self, receipt: FiscalReceipt) -> list[tuple[cmd.Command, dict[str, Any]]]:
        if not receipt.items:
            raise ValueError("a receipt needs at least one item")
        plan: list[tuple[cmd.Command, dict[str, Any]]] = []
        try:
            if receipt.correction is not None:
                c = receipt.correction
                plan.append(
                    (cmd.TLV_TO_DOCUMENT, {"tlv": codec.tlv_byte(TAG_CORRECTION_TYPE, c.correction_type)})
                )
                basis = [codec.tlv_unixtime(TAG_BASIS_DATE, c.basis_date)]
                basis.append(codec.tlv_string(TAG_BASIS_NUMBER, c.basis_number))
                plan.append((cmd.TLV_TO_DOCUMENT, {"tlv": codec.tlv_stlv(TAG_CORRECTION_BASIS, basis)}))
            if receipt.buyer_contact:
                plan.append(
                    (cmd.TLV_TO_DOCUMENT, {"tlv": codec.tlv_string(TAG_BUYER_CONTACT, receipt.buyer_contact)})
                )
            for item in receipt.items:
                plan.append(
                    (cmd.TLV_TO_OPERATION, {"tlv": codec.tlv_byte(TAG_MEASURE_UNIT, item.measure_unit)})
                )
                plan.append((cmd.OPERATION_V2, self._item_values(receipt.kind, item)))
            payments = [0] * cmd.PAYMENT_SLOTS
            payments[PAYMENT_CASH] = receipt.cash
            payments[PAYMENT_ELECTRONIC] = receipt.electronic
            close = {"payments": payments, "taxation_system": receipt.taxation_system, "text": receipt.text}
            plan.append((cmd.CLOSE_RECEIPT_V2, close))
            for command, values in plan:  # dry-run encoding: raises before any byte goes out
                cmd.build_request(command, self.password, **values)
        except CodecError as exc:
            raise ValueError(f"receipt cannot be encoded: {exc}") from exc
        return plan

    @staticmethod
    def _item_values(kind: SettlementKind, item: FiscalItem) -> dict[str, Any]:
        if item.vat not in WIRE_TAX_RATE:
            raise ValueError(f"unknown VAT code {item.vat} (FFD 1199)")
        if len(item.name) > 128:
            raise ValueError(f"item name longer than 128 characters: {item.name[:40]}...")
        return {
            "operation": int(kind),
            "quantity": item.quantity,
            "price": item.price,
            "amount": item.amount,
            "tax_amount": codec.MONEY_UNSPECIFIED,
            "tax_rate": WIRE_TAX_RATE[item.vat],
            "department": item.department,
            "payment_method": item.payment_method,
            "payment_subject": item.payment_subject,
            "name": item.name,
        }

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
