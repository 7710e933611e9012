"""Command codes and the byte layout of every request and answer: the single source of truth for both sides.

A request body is ``CMD | PASSWORD (4 B LE, except FC) | params``; an answer body is ``CMD | ERROR | data``.
``CMD`` is one byte, or two bytes big-endian for the 0xFFxx (FN) family. An answer with a non-zero ERROR
carries no data. Layouts list the fields in wire order; a trailing "text"/"tail" field takes the rest.
Extra trailing bytes in an answer are ignored (newer firmware appends fields).

The OFD relay commands (0xFFD0..0xFFD2) are modelled by the emulator only: real devices relay documents
to the OFD with vendor-specific commands, so a driver for real hardware must map these three calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kkt_adapter.shtrih import codec
from kkt_adapter.shtrih.codec import CodecError

DEFAULT_PASSWORD = 30  # system administrator; operators are 1..29
REQUIRED: Any = object()  # Field.default marker: pack() needs the value (None is a value: a zero date)


@dataclass(frozen=True)
class _Kind:
    size: int | None  # fixed byte size, or None for "the rest of the body"
    encode: Callable[[Any, int], bytes]  # (value, field size) -> bytes
    decode: Callable[[bytes], Any]


def _raw_encode(value: bytes, size: int) -> bytes:
    value = bytes(value)
    if len(value) != size:
        raise CodecError(f"expected {size} bytes, got {len(value)}")
    return value


def _ascii_encode(value: str, size: int) -> bytes:
    raw = value.encode("ascii")
    if len(raw) > size:
        raise CodecError(f"{value!r} longer than {size} characters")
    return raw.ljust(size, b"\x00")


def _u32_list_encode(values: list[int], _size: int) -> bytes:
    return b"".join(codec.encode_uint(v, 4) for v in values)


def _u32_list_decode(data: bytes) -> list[int]:
    return [codec.decode_uint(data[i : i + 4]) for i in range(0, len(data) - len(data) % 4, 4)]


KINDS: dict[str, _Kind] = {
    "u8": _Kind(1, lambda v, _s: codec.encode_uint(v, 1), codec.decode_uint),
    "u16": _Kind(2, lambda v, _s: codec.encode_uint(v, 2), codec.decode_uint),
    "u32": _Kind(4, lambda v, _s: codec.encode_uint(v, 4), codec.decode_uint),
    "u48": _Kind(6, lambda v, _s: codec.encode_uint(v, 6), codec.decode_uint),  # money register (1A)
    "money": _Kind(5, lambda v, _s: codec.encode_money(v), codec.decode_money),
    "qty": _Kind(6, lambda v, _s: codec.encode_quantity(v), codec.decode_quantity),
    "date": _Kind(3, lambda v, _s: codec.encode_date(v), codec.decode_date),
    "datetime": _Kind(5, lambda v, _s: codec.encode_datetime(v), codec.decode_datetime),
    "ascii": _Kind(0, _ascii_encode, lambda b: bytes(b).rstrip(b"\x00").decode("ascii", "replace")),
    "raw": _Kind(0, _raw_encode, bytes),
    "text": _Kind(None, lambda v, s: codec.encode_text(v, s, errors="replace"), codec.decode_text),
    "tail": _Kind(None, lambda v, _s: bytes(v), bytes),
    "u32s": _Kind(None, _u32_list_encode, _u32_list_decode),
}


@dataclass(frozen=True)
class Field:
    """One wire field. ``size`` is the byte size of "ascii"/"raw" fields and the byte limit of "text"."""

    name: str
    kind: str
    count: int = 1  # > 1: the value is a list of ``count`` items of this kind
    size: int = 0
    default: Any = REQUIRED  # used by pack() when the value is not given

    def width(self) -> int | None:
        kind = KINDS[self.kind]
        if kind.size is None:
            return None
        return (kind.size or self.size) * self.count


class Layout:
    """Ordered fields of a request's params or an answer's data."""

    def __init__(self, *fields: Field):
        for f in fields[:-1]:
            if f.width() is None:
                raise ValueError(f"variable-size field {f.name} must be last")
        self.fields = fields

    def pack(self, values: dict[str, Any] | None = None) -> bytes:
        values = values or {}
        unknown = set(values) - {f.name for f in self.fields}
        if unknown:
            raise CodecError(f"unknown fields {sorted(unknown)}")
        out = bytearray()
        for f in self.fields:
            value = values.get(f.name, f.default)
            if value is REQUIRED:
                raise CodecError(f"field {f.name} is required")
            kind = KINDS[f.kind]
            items = value if f.count > 1 else [value]
            if len(items) != f.count:
                raise CodecError(f"field {f.name} takes {f.count} values, got {len(items)}")
            for item in items:
                out += kind.encode(item, f.size)
        return bytes(out)

    def unpack(self, data: bytes) -> dict[str, Any]:
        data = bytes(data)
        values: dict[str, Any] = {}
        pos = 0
        for f in self.fields:
            kind = KINDS[f.kind]
            width = f.width()
            if width is None:
                chunk = data[pos:]
                if f.kind == "text" and f.size and len(chunk) > f.size:
                    raise CodecError(f"field {f.name} longer than {f.size} bytes")
                values[f.name] = kind.decode(chunk)
                pos = len(data)
                continue
            if pos + width > len(data):
                raise CodecError(f"data too short for field {f.name}: {len(data)} bytes")
            item_size = width // f.count
            items = [
                kind.decode(data[pos + i * item_size : pos + (i + 1) * item_size]) for i in range(f.count)
            ]
            values[f.name] = items if f.count > 1 else items[0]
            pos += width
        return values


@dataclass(frozen=True)
class Command:
    code: int
    name: str
    request: Layout
    answer: Layout
    password: bool = True  # False only for FC (device type)
    read_only: bool = False  # changes nothing: safe to re-send after a timeout
    prints: bool = (
        False  # the device prints a document (emulator: --sign-delay before the answer, --print-delay after)
    )

    @property
    def hex(self) -> str:
        """Code as written in docs and Timeouts.extra keys: "10", "FC", "FF45"."""
        return f"{self.code:02X}"


_OPERATOR = Layout(Field("operator", "u8"))
_EMPTY = Layout()

SHORT_STATUS = Command(
    0x10,
    "short status",
    _EMPTY,
    Layout(
        Field("operator", "u8"),
        Field("flags", "u16"),
        Field("mode", "u8"),  # low nibble: mode; high nibble: mode state (receipt type when mode 8)
        Field("submode", "u8"),  # 0 paper present; 1/2 paper out passive/active; 3 after paper out
        Field("operations_low", "u8"),
        Field("battery_voltage", "u8"),
        Field("power_voltage", "u8"),
        Field("fp_error", "u8"),
        Field("eklz_error", "u8"),
        Field("operations_high", "u8"),
        Field("reserved", "raw", size=3, default=bytes(3)),
    ),
    read_only=True,
)
DEVICE_TYPE = Command(
    0xFC,
    "device type",
    _EMPTY,
    Layout(
        Field("device_type", "u8"),
        Field("device_subtype", "u8"),
        Field("protocol_version", "u8"),
        Field("protocol_subversion", "u8"),
        Field("model", "u8"),
        Field("language", "u8"),  # 0 = Russian
        Field("name", "text", size=240),
    ),
    password=False,
    read_only=True,
)
OPEN_SHIFT = Command(0xE0, "open shift", _EMPTY, _OPERATOR, prints=True)
X_REPORT = Command(0x40, "X report", _EMPTY, _OPERATOR, prints=True)
Z_REPORT = Command(0x41, "Z report (close shift)", _EMPTY, _OPERATOR, prints=True)
#: FF41 / FF42 start the FN's shift open / shift close report, so that FF0C can put document tags into it
#: (the cashier, 1021 / 1203) before E0 / 41 signs it. Nothing is signed or printed by them.
BEGIN_OPEN_SHIFT = Command(0xFF41, "begin shift open report", _EMPTY, _EMPTY)
BEGIN_CLOSE_SHIFT = Command(0xFF42, "begin shift close report", _EMPTY, _EMPTY)
OPEN_RECEIPT = Command(
    0x8D,
    "open receipt",
    Layout(Field("receipt_type", "u8")),  # 0 sale, 1 purchase, 2 sale return, 3 purchase return
    _OPERATOR,
)
CANCEL_RECEIPT = Command(0x88, "cancel receipt", _EMPTY, _OPERATOR)
OPERATION_V2 = Command(
    0xFF46,
    "operation V2",
    Layout(
        Field("operation", "u8"),  # FFD 1054: 1 sale, 2 sale return, 3 purchase, 4 purchase return
        Field("quantity", "qty"),
        Field("price", "money"),
        Field("amount", "money"),  # must match price x quantity within 1 kopeck
        Field("tax_amount", "money", default=codec.MONEY_UNSPECIFIED),  # 0xFFFFFFFFFF = device computes
        Field("tax_rate", "u8"),  # this project sends the FFD 1199 code, see shtrih_driver.WIRE_TAX_RATE
        Field("department", "u8"),
        Field("payment_method", "u8"),  # FFD 1214
        Field("payment_subject", "u8"),  # FFD 1212
        Field("name", "text", size=128),
    ),
    _EMPTY,
)
TLV_TO_OPERATION = Command(0xFF4D, "TLV into the next operation", Layout(Field("tlv", "tail")), _EMPTY)
TLV_TO_DOCUMENT = Command(0xFF0C, "TLV into the document", Layout(Field("tlv", "tail")), _EMPTY)
#: FF45 payment sums: index 0 cash (1031), 1 electronic (1081), 2..12 other payment types, 13 prepayment
#: offset (1215), 14 postpayment (1216), 15 counter-provision (1217).
PAYMENT_SLOTS = 16
SLOT_CASH, SLOT_ELECTRONIC, SLOT_PREPAYMENT = 0, 1, 13
TAX_SLOTS = 6
CLOSE_TEXT_MAX = 64  # bytes of the closing text line (our limit; the frame would allow 137)
CLOSE_RECEIPT_V2 = Command(
    0xFF45,
    "close receipt V2",
    Layout(
        Field("payments", "money", count=PAYMENT_SLOTS),
        Field("rounding", "u8", default=0),  # kopecks rounded off the total (0..99)
        Field("tax_sums", "money", count=TAX_SLOTS, default=(0,) * TAX_SLOTS),  # 0 = device computes
        Field("taxation_system", "u8"),  # FFD 1055 bitmask
        Field("text", "text", size=CLOSE_TEXT_MAX, default=""),
    ),
    Layout(
        Field("change", "money"),
        Field("fd_number", "u32"),
        Field("fiscal_sign", "u32"),
        Field("issued_at", "datetime"),
    ),
    prints=True,
)

# ---- cash in / cash out (внесение / выплата) and the registers that count them ---------------------
#: 50 / 51 answer: the operator and the document's through number (2 bytes: it wraps at 65536).
_CASH_DOCUMENT = Layout(Field("operator", "u8"), Field("document_number", "u16"))
CASH_IN = Command(0x50, "cash in", Layout(Field("amount", "money")), _CASH_DOCUMENT, prints=True)
CASH_OUT = Command(0x51, "cash out", Layout(Field("amount", "money")), _CASH_DOCUMENT, prints=True)
READ_MONEY_REGISTER = Command(
    0x1A,
    "read money register",
    Layout(Field("register", "u8")),
    Layout(Field("operator", "u8"), Field("value", "u48")),  # kopecks
    read_only=True,
)
READ_OPERATION_REGISTER = Command(
    0x1B,
    "read operation register",
    Layout(Field("register", "u8")),
    Layout(Field("operator", "u8"), Field("value", "u16")),
    read_only=True,
)
#: Money registers (1A), kopecks: cash in the drawer, cash in / cash out totals of the shift.
MONEY_CASH_IN_DRAWER = 241
MONEY_CASH_IN_TOTAL = 242
MONEY_CASH_OUT_TOTAL = 243
#: Operation registers (1B): the document through number; cash ins / cash outs in the shift; the running
#: numbers of cash-in and cash-out documents (not reset by the Z report).
OPERATION_DOCUMENT_NUMBER = 152
OPERATION_CASH_IN_COUNT = 153
OPERATION_CASH_OUT_COUNT = 154
OPERATION_CASH_IN_NUMBER = 155
OPERATION_CASH_OUT_NUMBER = 156

FN_STATUS = Command(
    0xFF01,
    "FN status",
    _EMPTY,
    Layout(
        Field("life_phase", "u8"),
        Field("current_document", "u8"),  # 0 none, 4 receipt, ...
        Field("document_data", "u8"),  # 1 = data received for the open document
        Field("shift_state", "u8"),  # 1 = open
        Field("warnings", "u8"),
        Field("now", "datetime"),
        Field("fn_number", "ascii", size=16),
        Field("last_fd", "u32"),
    ),
    read_only=True,
)
FN_EXPIRY = Command(
    0xFF03,
    "FN expiry",
    _EMPTY,
    Layout(Field("expires_on", "date"), Field("registrations_left", "u8"), Field("registrations_done", "u8")),
    read_only=True,
)
OFD_STATUS = Command(
    0xFF39,
    "OFD exchange status",
    _EMPTY,
    Layout(
        Field("status", "u8"),  # bit 1: a message waits for the OFD
        Field("reading", "u8"),  # 1 = a message is being read
        Field("queue_size", "u16"),
        Field("first_fd", "u32"),
        Field("first_at", "datetime"),
    ),
    read_only=True,
)
UNCONFIRMED_COUNT = Command(
    0xFF3F, "documents without OFD receipt", _EMPTY, Layout(Field("count", "u16")), read_only=True
)
FIND_DOCUMENT = Command(
    0xFF0A,
    "find document",
    Layout(Field("fd_number", "u32")),
    Layout(Field("document_type", "u8"), Field("ofd_confirmed", "u8"), Field("data", "tail")),
    read_only=True,
)
#: FF0A ``data`` for receipts (types 3 and 31).
FOUND_RECEIPT = Layout(
    Field("issued_at", "datetime"),
    Field("fd_number", "u32"),
    Field("fiscal_sign", "u32"),
    Field("settlement", "u8"),
    Field("total", "money"),
)
#: FF0A ``data`` for shift open / close reports (types 2 and 5).
FOUND_SHIFT = Layout(
    Field("issued_at", "datetime"),
    Field("fd_number", "u32"),
    Field("fiscal_sign", "u32"),
    Field("shift_number", "u16"),
)
#: FF0A ``data`` for any other document type (common head).
FOUND_OTHER = Layout(Field("issued_at", "datetime"), Field("fd_number", "u32"), Field("fiscal_sign", "u32"))

# ---- OFD relay, modelled (vendor-specific on real devices) ----------------------------------------
OFD_LIST_PAGE = 60  # FD numbers per FFD0 answer (4 bytes each; the answer body is at most 255 bytes)
OFD_READ_CHUNK = 240  # document bytes per FFD1 answer
OFD_ACK_MAX = 240  # bytes of one OFD acknowledgment in FFD2
LIST_UNCONFIRMED = Command(
    0xFFD0,
    "OFD relay: list unconfirmed documents",
    Layout(Field("start", "u16")),  # index into the queue, oldest first
    Layout(Field("total", "u16"), Field("fds", "u32s")),
    read_only=True,
)
READ_UNCONFIRMED = Command(
    0xFFD1,
    "OFD relay: read an unconfirmed document",
    Layout(Field("fd_number", "u32"), Field("offset", "u16")),
    Layout(Field("fd_number", "u32"), Field("size", "u16"), Field("chunk", "tail")),
    read_only=True,
)
APPLY_OFD_ACK = Command(
    0xFFD2,
    "OFD relay: apply an OFD acknowledgment",
    Layout(Field("fd_number", "u32"), Field("ack", "tail")),
    _EMPTY,
)

COMMANDS: dict[int, Command] = {
    c.code: c
    for c in (
        SHORT_STATUS,
        DEVICE_TYPE,
        OPEN_SHIFT,
        X_REPORT,
        Z_REPORT,
        BEGIN_OPEN_SHIFT,
        BEGIN_CLOSE_SHIFT,
        OPEN_RECEIPT,
        CANCEL_RECEIPT,
        OPERATION_V2,
        TLV_TO_OPERATION,
        TLV_TO_DOCUMENT,
        CLOSE_RECEIPT_V2,
        CASH_IN,
        CASH_OUT,
        READ_MONEY_REGISTER,
        READ_OPERATION_REGISTER,
        FN_STATUS,
        FN_EXPIRY,
        OFD_STATUS,
        UNCONFIRMED_COUNT,
        FIND_DOCUMENT,
        LIST_UNCONFIRMED,
        READ_UNCONFIRMED,
        APPLY_OFD_ACK,
    )
}


def command_bytes(code: int) -> bytes:
    """1 byte, or 2 bytes big-endian for the 0xFFxx family."""
    if 0xFF00 <= code <= 0xFFFF:
        return code.to_bytes(2, "big")
    if 0 <= code <= 0xFE:
        return bytes([code])
    raise CodecError(f"invalid command code 0x{code:X}")


def split_command(body: bytes) -> tuple[int, bytes]:
    """Split a frame body into (command code, rest)."""
    if not body:
        raise CodecError("empty body")
    if body[0] == 0xFF:
        if len(body) < 2:
            raise CodecError("truncated 0xFF-family command code")
        return 0xFF00 | body[1], bytes(body[2:])
    return body[0], bytes(body[1:])


def parse_code(text: str | int) -> int:
    """ "FF45", "0xff45" or 65349 -> 0xFF45."""
    if isinstance(text, int):
        return text
    return int(text.strip().upper().removeprefix("0X"), 16)


def build_request(command: Command, password: int = DEFAULT_PASSWORD, **values: Any) -> bytes:
    head = command_bytes(command.code)
    if command.password:
        head += codec.encode_uint(password, 4)
    return head + command.request.pack(values)


def parse_request(body: bytes) -> tuple[int, int | None, bytes]:
    """Device side: (code, password or None, params). Unknown codes come back as (code, None, rest)."""
    code, rest = split_command(body)
    command = COMMANDS.get(code)
    if command is None or not command.password:
        return code, None, rest
    if len(rest) < 4:
        raise CodecError("request too short for the password")
    return code, codec.decode_uint(rest[:4]), rest[4:]


def build_answer(command_code: int, error: int = 0, data: bytes = b"") -> bytes:
    return command_bytes(command_code) + bytes([error]) + (bytes(data) if error == 0 else b"")


def parse_answer(command: Command, body: bytes) -> tuple[int, dict[str, Any]]:
    """Host side: (error code, decoded data). Data is decoded only when the error code is 0."""
    code, rest = split_command(body)
    if code != command.code:
        raise CodecError(f"answer is for command 0x{code:X}, expected 0x{command.code:X}")
    if not rest:
        raise CodecError("answer without an error byte")
    error = rest[0]
    if error:
        return error, {}
    return 0, command.answer.unpack(rest[1:])
