"""The byte layer under the Shtrih-M link: one exclusive pyserial port and the frame parser on its input.

``SerialPort`` writes bytes, reads parsed events (frames, control bytes; a frame cut short by a silent
line comes back as ``BadFrame``) within a deadline, forgets stray input, and lets the link push an event
back for the next read. Every I/O failure of the device going away becomes ``KktLinkError``.
"""

from __future__ import annotations

import contextlib
import termios
import time

import serial

from kkt_adapter.kkt.errors import KktLinkError
from kkt_adapter.kkt.types import Timeouts
from kkt_adapter.shtrih.frame import Event, FrameParser

#: What the serial layer raises when the device goes away (unplugged, re-enumerated, pty closed).
IO_ERRORS = (serial.SerialException, OSError, termios.error)

POLL = 0.02  # seconds; granularity of deadline checks while waiting for bytes (data wakes reads at once)


class SerialPort:
    """One serial port to one device. Not thread-safe: the link's caller serialises access."""

    def __init__(self, path: str, baudrate: int, timeouts: Timeouts):
        self.path = path
        self.baudrate = baudrate
        self.timeouts = timeouts
        self._serial: serial.Serial | None = None
        self._parser = FrameParser()
        self._events: list[Event] = []

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def open(self) -> None:
        try:
            # exclusive: a second opener (say a diagnostic tool) fails instead of interleaving frames with us
            self._serial = serial.Serial(
                self.path,
                self.baudrate,
                timeout=POLL,
                write_timeout=max(self.timeouts.ack, 1.0),
                exclusive=True,
            )
        except (*IO_ERRORS, ValueError) as exc:
            raise KktLinkError(f"cannot open {self.path}: {exc}") from exc

    def close(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(*IO_ERRORS):
                self._serial.close()
            self._serial = None
        self._parser = FrameParser()
        self._events.clear()

    def write(self, data: bytes) -> None:
        assert self._serial is not None
        try:
            self._serial.write(data)
            self._serial.flush()
        except IO_ERRORS as exc:
            raise KktLinkError(f"write to {self.path} failed: {exc}") from exc

    def drain_input(self) -> None:
        """Forget everything received so far (stray bytes between exchanges)."""
        assert self._serial is not None
        try:
            self._serial.reset_input_buffer()
        except IO_ERRORS as exc:
            raise KktLinkError(f"cannot reset {self.path}: {exc}") from exc
        self._parser = FrameParser()
        self._events.clear()

    def push_back(self, event: Event) -> None:
        """Return an event to the front of the queue: the next ``next_event`` reads it again."""
        self._events.insert(0, event)

    def next_event(self, timeout: float) -> Event | None:
        """Next parsed event within ``timeout`` seconds; a frame cut short comes back as BadFrame."""
        assert self._serial is not None
        deadline = time.monotonic() + max(0.0, timeout)
        last_byte = time.monotonic()
        while True:
            if self._events:
                return self._events.pop(0)
            now = time.monotonic()
            if self._parser.in_frame and now - last_byte > self.timeouts.byte:
                return self._parser.abort()
            if now >= deadline and not self._parser.in_frame:
                return None
            try:
                data = self._serial.read(max(1, self._serial.in_waiting))
            except IO_ERRORS as exc:
                raise KktLinkError(f"read from {self.path} failed: {exc}") from exc
            if data:
                last_byte = time.monotonic()
                self._events.extend(self._parser.feed(data))
