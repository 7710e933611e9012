"""Shtrih-M v1 link framing: control bytes, LRC, frame encoding and an incremental frame parser.

A frame is ``STX | LEN | BODY | LRC`` where BODY is ``CMD (1 or 2 bytes) | PASSWORD | PARAMS`` on the way to
the device and ``CMD | ERROR | DATA`` on the way back. LEN counts the BODY bytes (1..255) and LRC is the XOR
of LEN and every BODY byte. Outside a frame the line carries single control bytes (ENQ, ACK, NAK).
"""

from __future__ import annotations

from dataclasses import dataclass

STX = 0x02  # start of a frame
ENQ = 0x05  # host: "what is your state?"
ACK = 0x06  # positive acknowledgement (and "an answer is waiting" in reply to ENQ)
NAK = 0x15  # negative acknowledgement (and "idle, send a command" in reply to ENQ)

CONTROL_BYTES = frozenset({ENQ, ACK, NAK})
MAX_BODY = 255  # LEN is a single byte


class FrameError(ValueError):
    """A byte string is not one well-formed frame (only raised by :func:`decode_frame`)."""


def lrc(data: bytes) -> int:
    """XOR of every byte of ``data`` (pass LEN followed by the body)."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def encode_frame(body: bytes) -> bytes:
    """Wrap a body (CMD..PARAMS or CMD..DATA) into ``STX | LEN | body | LRC``."""
    if not 1 <= len(body) <= MAX_BODY:
        raise FrameError(f"frame body must be 1..{MAX_BODY} bytes, got {len(body)}")
    head = bytes([len(body)]) + bytes(body)
    return bytes([STX]) + head + bytes([lrc(head)])


def decode_frame(raw: bytes) -> bytes:
    """Strictly decode exactly one complete frame and return its body; raise FrameError otherwise."""
    if len(raw) < 3 or raw[0] != STX:
        raise FrameError("not a frame: missing STX or too short")
    length = raw[1]
    if length == 0:
        raise FrameError("empty frame (LEN = 0)")
    if len(raw) != length + 3:
        raise FrameError(f"LEN says {length} body bytes but the frame holds {len(raw) - 3}")
    body = bytes(raw[2 : 2 + length])
    if lrc(raw[1 : 2 + length]) != raw[-1]:
        raise FrameError("bad LRC")
    return body


# ---- parser events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    """A single control byte (ENQ / ACK / NAK) seen between frames."""

    byte: int


@dataclass(frozen=True)
class Frame:
    """A complete frame with a correct LRC."""

    body: bytes


@dataclass(frozen=True)
class BadFrame:
    """A frame that cannot be accepted: ``reason`` is "lrc", "empty" or "timeout" (cut short)."""

    raw: bytes
    reason: str


@dataclass(frozen=True)
class Garbage:
    """A byte outside any frame that is neither STX nor a control byte."""

    byte: int


Event = Control | Frame | BadFrame | Garbage


class FrameParser:
    """Turns an arbitrary byte stream into events; it never raises on any ``bytes`` input.

    Feed it whatever arrives from the line; it returns the events completed by those bytes. Inside a frame
    every byte is data (ENQ/ACK/NAK values included), so a frame cut short would swallow the following
    bytes: the reader must call :meth:`abort` when the line stays quiet longer than the inter-byte timeout.
    """

    def __init__(self) -> None:
        self._buf = bytearray()  # bytes of the frame being assembled, STX included; empty = between frames

    @property
    def in_frame(self) -> bool:
        """True while a frame has started (STX seen) but is not complete yet."""
        return bool(self._buf)

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        for byte in bytes(data):
            if not self._buf:
                if byte == STX:
                    self._buf.append(byte)
                elif byte in CONTROL_BYTES:
                    events.append(Control(byte))
                else:
                    events.append(Garbage(byte))
                continue
            self._buf.append(byte)
            # Complete once STX + LEN + LEN body bytes + LRC are in (LEN 0 still consumes its LRC byte).
            if len(self._buf) >= 2 and len(self._buf) == self._buf[1] + 3:
                raw = bytes(self._buf)
                self._buf.clear()
                events.append(self._complete(raw))
        return events

    def abort(self) -> BadFrame | None:
        """Drop a partially received frame (inter-byte timeout); returns it as a BadFrame, or None."""
        if not self._buf:
            return None
        raw = bytes(self._buf)
        self._buf.clear()
        return BadFrame(raw, "timeout")

    @staticmethod
    def _complete(raw: bytes) -> Event:
        length = raw[1]
        if length == 0:
            return BadFrame(raw, "empty")
        if lrc(raw[1:-1]) != raw[-1]:
            return BadFrame(raw, "lrc")
        return Frame(raw[2:-1])
