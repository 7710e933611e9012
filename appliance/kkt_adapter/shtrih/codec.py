"""Value encodings of the Shtrih-M protocol and of FFD TLV structures.

Integers are little-endian; money is 5 bytes of kopecks; quantity is 6 bytes of millionths; text is
cp1251; FN dates are ``YY MM DD`` and FN date-times ``YY MM DD hh mm`` (years counted from 2000).
TLV (FFD): tag 2 bytes LE, length 2 bytes LE, value. Every decoder raises :class:`CodecError` on bad input.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

MONEY_SIZE = 5
QTY_SIZE = 6
QTY_SCALE = 1_000_000  # quantity is carried as an integer number of millionths
MONEY_UNSPECIFIED = 0xFF_FFFF_FFFF  # "not given, let the device compute" (FF46 tax sum)
TEXT_ENCODING = "cp1251"


class CodecError(ValueError):
    """A value cannot be encoded, or bytes cannot be decoded, in the requested format."""


# ---- integers and money --------------------------------------------------------------------------


def encode_uint(value: int, size: int) -> bytes:
    if not 0 <= value < 1 << (8 * size):
        raise CodecError(f"{value} does not fit in {size} unsigned bytes")
    return int(value).to_bytes(size, "little")


def decode_uint(data: bytes) -> int:
    return int.from_bytes(bytes(data), "little")


def encode_money(kopecks: int) -> bytes:
    return encode_uint(kopecks, MONEY_SIZE)


def decode_money(data: bytes) -> int:
    if len(data) != MONEY_SIZE:
        raise CodecError(f"money takes {MONEY_SIZE} bytes, got {len(data)}")
    return decode_uint(data)


def encode_quantity(quantity: Decimal | int | str) -> bytes:
    """Quantity with at most 6 decimals -> 6 bytes of millionths (rounding is refused, not done silently)."""
    value = Decimal(quantity)
    if not value.is_finite() or value < 0:
        raise CodecError(f"quantity must be a finite non-negative number, got {quantity!r}")
    scaled = value * QTY_SCALE
    if scaled != scaled.to_integral_value():
        raise CodecError(f"quantity {quantity} has more than 6 decimals")
    return encode_uint(int(scaled), QTY_SIZE)


def decode_quantity(data: bytes) -> Decimal:
    if len(data) != QTY_SIZE:
        raise CodecError(f"quantity takes {QTY_SIZE} bytes, got {len(data)}")
    return Decimal(decode_uint(data)).scaleb(-6)


# ---- text ----------------------------------------------------------------------------------------


def encode_text(text: str, max_bytes: int, *, errors: str = "strict") -> bytes:
    """cp1251 text of at most ``max_bytes``; ``errors="replace"`` turns unencodable characters into '?'."""
    try:
        raw = text.encode(TEXT_ENCODING, errors=errors)
    except UnicodeEncodeError as exc:
        raise CodecError(f"text is not representable in cp1251: {text!r}") from exc
    if len(raw) > max_bytes:
        raise CodecError(f"text is {len(raw)} bytes, at most {max_bytes} allowed")
    return raw


def decode_text(data: bytes) -> str:
    """cp1251 text; trailing NUL padding is dropped (cp1251 decodes every byte, so this never fails)."""
    return bytes(data).rstrip(b"\x00").decode(TEXT_ENCODING, errors="replace")


# ---- FN dates ------------------------------------------------------------------------------------


def encode_date(value: date) -> bytes:
    if not 2000 <= value.year <= 2255:
        raise CodecError(f"year {value.year} cannot be carried in one byte from 2000")
    return bytes([value.year - 2000, value.month, value.day])


def decode_date(data: bytes) -> date | None:
    """3 bytes YY MM DD; all zeros means "no date" and gives None."""
    if len(data) != 3:
        raise CodecError(f"date takes 3 bytes, got {len(data)}")
    if not any(data):
        return None
    try:
        return date(2000 + data[0], data[1], data[2])
    except ValueError as exc:
        raise CodecError(f"invalid date bytes {bytes(data).hex()}") from exc


def encode_datetime(value: datetime | None) -> bytes:
    """5 bytes YY MM DD hh mm (seconds are not carried); None encodes as zeros."""
    if value is None:
        return bytes(5)
    return encode_date(value.date()) + bytes([value.hour, value.minute])


def decode_datetime(data: bytes) -> datetime | None:
    """5 bytes YY MM DD hh mm; all zeros means "no date" (None). The result is naive (FN local time)."""
    if len(data) != 5:
        raise CodecError(f"date-time takes 5 bytes, got {len(data)}")
    if not any(data):
        return None
    try:
        return datetime(2000 + data[0], data[1], data[2], data[3], data[4])
    except ValueError as exc:
        raise CodecError(f"invalid date-time bytes {bytes(data).hex()}") from exc


# ---- TLV (FFD) -----------------------------------------------------------------------------------


def encode_tlv(tag: int, value: bytes) -> bytes:
    return encode_uint(tag, 2) + encode_uint(len(value), 2) + bytes(value)


def decode_tlvs(data: bytes) -> list[tuple[int, bytes]]:
    """Split bytes into consecutive (tag, value) pairs; trailing bytes that do not fit are an error."""
    data = bytes(data)
    items: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        if pos + 4 > len(data):
            raise CodecError(f"truncated TLV header at offset {pos}")
        tag = decode_uint(data[pos : pos + 2])
        length = decode_uint(data[pos + 2 : pos + 4])
        end = pos + 4 + length
        if end > len(data):
            raise CodecError(f"TLV {tag} claims {length} bytes, only {len(data) - pos - 4} left")
        items.append((tag, data[pos + 4 : end]))
        pos = end
    return items


def tlv_byte(tag: int, value: int) -> bytes:
    """FFD "Byte" type (e.g. 1173, 2108)."""
    return encode_tlv(tag, encode_uint(value, 1))


def tlv_string(tag: int, value: str) -> bytes:
    """FFD "String" type (e.g. 1008, 1179), cp1251."""
    return encode_tlv(tag, encode_text(value, 0xFFFF))


def tlv_unixtime(tag: int, value: date | datetime) -> bytes:
    """FFD "UnixTime": 4 bytes LE seconds since 1970; a date means its midnight (UTC), e.g. tag 1178."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return encode_tlv(tag, encode_uint(int(value.timestamp()), 4))


def tlv_stlv(tag: int, children: list[bytes]) -> bytes:
    """FFD "STLV": a TLV whose value is a concatenation of TLVs (e.g. 1174 holding 1178 and 1179)."""
    return encode_tlv(tag, b"".join(children))
