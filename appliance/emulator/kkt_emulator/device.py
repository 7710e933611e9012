"""Emulated device: decodes one command body, applies it to the FN model, encodes the answer body.

Byte layouts come from ``kkt_adapter.shtrih.commands`` (shared with the driver). Link-level behaviour
(ENQ/ACK/NAK, faults, line speed, the FN's signing time) is not here but in ``emulator.link``.

The printer, as on a Shtrih-M: a command that prints answers once the FN has recorded the document, and
the printer then works for ``print_seconds``; meanwhile the short status shows submode 5 and every command
that changes state is refused with 0x50 (not executed), while status queries are answered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from kkt_adapter.shtrih import commands as cmd
from kkt_adapter.shtrih import errors as E
from kkt_adapter.shtrih.codec import CodecError
from kkt_emulator.fn import OPEN_DOC_RECEIPT, FiscalStorage, FnError

log = logging.getLogger(__name__)

DEVICE_NAME = "ШТРИХ-М-01Ф (эмулятор)"  # Cyrillic, as real devices report their model name
MAX_PASSWORD = 30  # 1..29 operators, 30 system administrator

MODE_SHIFT_OPEN = 2
MODE_SHIFT_EXPIRED = 3
MODE_SHIFT_CLOSED = 4
MODE_DOCUMENT_OPEN = 8
SUBMODE_PAPER_OUT = 1  # passive paper out (no printing in progress)
SUBMODE_PRINTING = 5  # printing an operation's document
FLAG_RECEIPT_PAPER = 0x0002  # short status flag bit 1: receipt roll present

Handler = Callable[[dict[str, Any], float], dict[str, Any]]


class Device:
    def __init__(self, fn: FiscalStorage, *, print_seconds: float = 0.0):
        self.fn = fn
        self.print_seconds = print_seconds  # the printer's time per printed document, after the answer
        self._printing_until = 0.0  # monotonic time the printer finishes the last document
        self._handlers: dict[int, Handler] = {
            cmd.SHORT_STATUS.code: self._short_status,
            cmd.DEVICE_TYPE.code: self._device_type,
            cmd.OPEN_SHIFT.code: lambda v, t: self._operator(self.fn.open_shift(t)),
            cmd.X_REPORT.code: lambda v, t: self._operator(self.fn.x_report()),
            cmd.Z_REPORT.code: lambda v, t: self._operator(self.fn.close_shift(t)),
            cmd.BEGIN_OPEN_SHIFT.code: lambda v, t: self.fn.begin_shift_report("open") or {},
            cmd.BEGIN_CLOSE_SHIFT.code: lambda v, t: self.fn.begin_shift_report("close") or {},
            cmd.OPEN_RECEIPT.code: lambda v, t: self._operator(self.fn.open_receipt(v["receipt_type"])),
            cmd.CANCEL_RECEIPT.code: lambda v, t: self._operator(self.fn.cancel_receipt()),
            cmd.OPERATION_V2.code: lambda v, t: self.fn.add_item(v) or {},
            cmd.TLV_TO_OPERATION.code: lambda v, t: self.fn.add_item_tlv(v["tlv"]) or {},
            cmd.TLV_TO_DOCUMENT.code: lambda v, t: self.fn.add_document_tlv(v["tlv"]) or {},
            cmd.CLOSE_RECEIPT_V2.code: self._close_receipt,
            cmd.CASH_IN.code: lambda v, t: self._cash("in", v["amount"]),
            cmd.CASH_OUT.code: lambda v, t: self._cash("out", v["amount"]),
            cmd.READ_MONEY_REGISTER.code: lambda v, t: {
                "operator": MAX_PASSWORD,
                "value": self.fn.money_register(v["register"]),
            },
            cmd.READ_OPERATION_REGISTER.code: lambda v, t: {
                "operator": MAX_PASSWORD,
                "value": self.fn.operation_register(v["register"]),
            },
            cmd.FN_STATUS.code: self._fn_status,
            cmd.FN_EXPIRY.code: self._fn_expiry,
            cmd.OFD_STATUS.code: self._ofd_status,
            cmd.UNCONFIRMED_COUNT.code: lambda v, t: {"count": len(self.fn.state.unconfirmed)},
            cmd.FIND_DOCUMENT.code: self._find_document,
            cmd.LIST_UNCONFIRMED.code: self._list_unconfirmed,
            cmd.READ_UNCONFIRMED.code: self._read_unconfirmed,
            cmd.APPLY_OFD_ACK.code: lambda v, t: self.fn.apply_ack(v["fd_number"], v["ack"]) or {},
        }

    def execute(self, body: bytes, started: float) -> bytes:
        """Answer body for one command body; ``started`` is the monotonic time the frame was complete."""
        try:
            code, password, params = cmd.parse_request(body)
        except CodecError:
            code = body[0] if body else 0
            return cmd.build_answer(code, E.BAD_PARAMETERS)
        command = cmd.COMMANDS.get(code)
        handler = self._handlers.get(code)
        if command is None or handler is None:
            return cmd.build_answer(code, E.COMMAND_NOT_SUPPORTED)
        if command.password and not (password is not None and 1 <= password <= MAX_PASSWORD):
            return cmd.build_answer(code, E.WRONG_PASSWORD)
        try:
            values = command.request.unpack(params)
        except CodecError:
            return cmd.build_answer(code, E.BAD_PARAMETERS)
        with self.fn.lock:
            if not command.read_only and self.printing:
                return cmd.build_answer(code, E.PREVIOUS_STILL_PRINTING)
            try:
                data = command.answer.pack(handler(values, started))
            except FnError as exc:
                log.info("command 0x%X refused: 0x%02X %s", code, exc.code, exc)
                return cmd.build_answer(code, exc.code)
            if command.prints and self.print_seconds > 0:
                self._printing_until = time.monotonic() + self.print_seconds
        return cmd.build_answer(code, 0, data)

    @property
    def printing(self) -> bool:
        return time.monotonic() < self._printing_until

    # ---- handlers --------------------------------------------------------------------------------

    @staticmethod
    def _operator(_result: object = None) -> dict[str, Any]:
        return {"operator": MAX_PASSWORD}

    def _short_status(self, _v: dict[str, Any], _t: float) -> dict[str, Any]:
        s = self.fn.state
        if s.receipt is not None:
            mode = MODE_DOCUMENT_OPEN | (s.receipt["receipt_type"] << 4)
        elif self.fn.shift_expired:
            mode = MODE_SHIFT_EXPIRED
        elif s.shift_open:
            mode = MODE_SHIFT_OPEN
        else:
            mode = MODE_SHIFT_CLOSED
        operations = len(s.receipt["items"]) if s.receipt else 0
        return {
            "operator": MAX_PASSWORD,
            "flags": FLAG_RECEIPT_PAPER if s.paper else 0,
            "mode": mode,
            "submode": SUBMODE_PAPER_OUT if not s.paper else SUBMODE_PRINTING if self.printing else 0,
            "operations_low": operations & 0xFF,
            "battery_voltage": 0x9A,
            "power_voltage": 0xBE,
            "fp_error": 0,
            "eklz_error": 0,
            "operations_high": operations >> 8,
        }

    @staticmethod
    def _device_type(_v: dict[str, Any], _t: float) -> dict[str, Any]:
        return {
            "device_type": 0,  # 0 = fiscal register
            "device_subtype": 0,
            "protocol_version": 1,
            "protocol_subversion": 0,
            "model": 0,
            "language": 0,  # Russian
            "name": DEVICE_NAME,
        }

    def _cash(self, kind: str, amount: int) -> dict[str, Any]:
        record = self.fn.cash_operation(kind, amount)
        return {"operator": MAX_PASSWORD, "document_number": record["document_number"] & 0xFFFF}

    def _close_receipt(self, v: dict[str, Any], started: float) -> dict[str, Any]:
        record, change = self.fn.close_receipt(v, started)
        return {
            "change": change,
            "fd_number": record["fd"],
            "fiscal_sign": record["fp"],
            "issued_at": _minute(record["datetime"]),
        }

    def _fn_status(self, _v: dict[str, Any], _t: float) -> dict[str, Any]:
        s = self.fn.state
        return {
            "life_phase": 3,
            "current_document": OPEN_DOC_RECEIPT if s.receipt is not None else 0,
            "document_data": 1 if s.receipt and s.receipt["items"] else 0,
            "shift_state": 1 if s.shift_open else 0,
            "warnings": self.fn.warnings,
            "now": self.fn.now(),
            "fn_number": s.fn_number,
            "last_fd": s.last_fd,
        }

    def _fn_expiry(self, _v: dict[str, Any], _t: float) -> dict[str, Any]:
        s = self.fn.state
        return {
            "expires_on": date.fromisoformat(s.expires_on),
            "registrations_left": s.registrations_left,
            "registrations_done": s.registrations_done,
        }

    def _ofd_status(self, _v: dict[str, Any], _t: float) -> dict[str, Any]:
        queue = self.fn.state.unconfirmed
        first = self.fn.document(queue[0]["fd"]) if queue else None
        return {
            "status": 0x02 if queue else 0,  # bit 1: a message waits for the OFD
            "reading": 0,
            "queue_size": len(queue),
            "first_fd": queue[0]["fd"] if queue else 0,
            "first_at": _minute(first["datetime"]) if first else None,
        }

    def _find_document(self, v: dict[str, Any], _t: float) -> dict[str, Any]:
        fd = v["fd_number"]
        record = self.fn.document(fd)
        if record is None:
            raise FnError(E.FN_NO_DATA)
        head = {"issued_at": _minute(record["datetime"]), "fd_number": fd, "fiscal_sign": record["fp"]}
        if "settlement" in record:
            data = cmd.FOUND_RECEIPT.pack(
                {**head, "settlement": record["settlement"], "total": record["total"]}
            )
        elif "shift" in record:
            data = cmd.FOUND_SHIFT.pack({**head, "shift_number": record["shift"]})
        else:
            data = cmd.FOUND_OTHER.pack(head)
        return {"document_type": record["type"], "ofd_confirmed": int(self.fn.is_confirmed(fd)), "data": data}

    def _list_unconfirmed(self, v: dict[str, Any], _t: float) -> dict[str, Any]:
        fds = [u["fd"] for u in self.fn.state.unconfirmed]
        start = v["start"]
        return {"total": len(fds), "fds": fds[start : start + cmd.OFD_LIST_PAGE]}

    def _read_unconfirmed(self, v: dict[str, Any], _t: float) -> dict[str, Any]:
        message = self.fn.document_message(v["fd_number"])
        offset = v["offset"]
        if offset > len(message):
            raise FnError(E.FN_BAD_PARAMETERS)
        chunk = message[offset : offset + cmd.OFD_READ_CHUNK]
        return {"fd_number": v["fd_number"], "size": len(message), "chunk": chunk}


def _minute(iso: str) -> datetime:
    """Journal ISO date-time -> the minute the FN reports on the wire."""
    return datetime.fromisoformat(iso).replace(second=0)
