"""Host side of the Shtrih-M v1 link: ENQ/ACK/NAK exchange of frames over a pyserial port.

The one rule that keeps receipts from printing twice: once a command frame may have been accepted by the
device, the host never sends that frame again. After an answer timeout it sends ENQ: ACK means the answer
is (being) prepared, so it reads it; NAK or silence means the outcome is unknown and, for a command that
changes state, :class:`KktTimeout` is raised so the caller reconciles with the FN. A frame is re-sent only
when the device NAKed it (a damaged frame is never executed), and a whole exchange is repeated only for
read-only commands.
"""

from __future__ import annotations

import logging
import time

from kkt_adapter.kkt.errors import KktLinkError, KktProtocolError, KktTimeout
from kkt_adapter.kkt.serial_port import SerialPort
from kkt_adapter.kkt.types import Timeouts
from kkt_adapter.shtrih.commands import split_command
from kkt_adapter.shtrih.frame import (
    ACK,
    ENQ,
    NAK,
    BadFrame,
    Control,
    Frame,
    encode_frame,
)

log = logging.getLogger(__name__)

DEFAULT_BAUD = 115200  # Shtrih-M factory default line speed


class ShtrihLink:
    """One serial link to one device. Not thread-safe: the caller serialises access."""

    def __init__(self, port: str, baudrate: int = DEFAULT_BAUD, timeouts: Timeouts | None = None):
        self.port = port
        self.timeouts = timeouts or Timeouts()
        self._port = SerialPort(port, baudrate, self.timeouts)
        self.stale_answers = 0  # answers of earlier exchanges read and discarded (diagnostics)

    # ---- lifecycle -------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._port.is_open

    def open(self) -> None:
        """Open the port and bring the device to idle (discarding a stale answer). Idempotent."""
        if self._port.is_open:
            return
        self._port.open()
        try:
            self._enquire()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._port.close()

    # ---- exchange --------------------------------------------------------------------------------

    def transact(self, body: bytes, *, read_only: bool, answer_timeout: float | None = None) -> bytes:
        """Send one command body, return its answer body (CMD | ERROR | DATA).

        Raises KktLinkError when the device does not answer ENQ (nothing was sent), KktProtocolError when the
        device rejected the frame every time (nothing was executed), KktTimeout when the command may have
        been executed but no answer could be read.
        """
        if not self._port.is_open:
            raise KktLinkError("link is not open")
        code, _ = split_command(body)
        frame = encode_frame(body)
        timeout = self.timeouts.answer if answer_timeout is None else answer_timeout
        rounds = max(1, self.timeouts.attempts) if read_only else 1
        for _ in range(rounds):
            self._enquire()  # KktLinkError here: nothing of this command was sent
            try:
                answer = self._read_answer(code, timeout) if self._send_frame(frame, code) else None
                if answer is None:
                    answer = self._recover(code, timeout)
            except KktLinkError as exc:
                if read_only:
                    raise
                # The frame may have reached the device before the port failed: the outcome is unknown.
                raise KktTimeout(f"link failed during command 0x{code:X}: {exc}", command=code) from exc
            if answer is not None:
                return answer
            log.warning("no answer to command 0x%X%s", code, "; re-sending (read-only)" if read_only else "")
        raise KktTimeout(f"no answer to command 0x{code:X}: outcome unknown", command=code)

    # ---- steps -----------------------------------------------------------------------------------

    def _enquire(self) -> None:
        """ENQ until the device says NAK (idle). An ACK means a stale answer: read it, ACK it, drop it."""
        silent = 0
        stale = 0
        while True:
            self._port.drain_input()
            self._port.write(bytes([ENQ]))
            event = self._port.next_event(self.timeouts.enq)
            if isinstance(event, Control) and event.byte == NAK:
                return
            if isinstance(event, Control) and event.byte == ACK:
                stale += 1
                body = self._read_answer(None, self.timeouts.answer)
                if body is not None:
                    self.stale_answers += 1
                    log.warning("discarded a stale answer from an earlier exchange: %s", body.hex())
                if stale > self.timeouts.attempts:
                    raise KktProtocolError("device keeps reporting a pending answer that cannot be read")
                continue
            if isinstance(event, Frame):
                # A late answer arrived on its own (we did not ACK it yet): acknowledge and drop it.
                self._port.write(bytes([ACK]))
                self.stale_answers += 1
                continue
            silent += 1
            if silent >= max(1, self.timeouts.attempts):
                raise KktLinkError(f"device on {self.port} does not answer ENQ")

    def _send_frame(self, frame: bytes, code: int) -> bool:
        """Send the frame until ACKed. True = accepted; False = no ACK seen (outcome unknown).

        A NAK means the device rejected a damaged frame, which it never executes, so that same frame is sent
        again; silence or anything else is ambiguous and handed to the ENQ recovery instead.
        """
        for _ in range(max(1, self.timeouts.attempts)):
            self._port.write(frame)
            event = self._port.next_event(self.timeouts.ack)
            if isinstance(event, Control) and event.byte == ACK:
                return True
            if isinstance(event, Control) and event.byte == NAK:
                log.info("device NAKed the frame of command 0x%X; re-sending it", code)
                continue
            if isinstance(event, Frame | BadFrame):
                # The ACK was lost on the line but an answer is already coming: the frame was accepted.
                self._port.push_back(event)
                return True
            return False
        raise KktProtocolError(f"device rejected the frame of command 0x{code:X} every time; not executed")

    def _read_answer(self, code: int | None, timeout: float) -> bytes | None:
        """Wait for an answer frame of ``code`` (any if None), ACK it, return its body; None on timeout."""
        deadline = time.monotonic() + timeout
        naks = 0
        while True:
            event = self._port.next_event(deadline - time.monotonic())
            if event is None:
                return None
            if isinstance(event, Frame):
                self._port.write(bytes([ACK]))
                try:
                    answer_code, _ = split_command(event.body)
                except ValueError:
                    answer_code = -1
                if code is None or answer_code == code:
                    return event.body
                self.stale_answers += 1
                log.warning("discarded an answer to command 0x%X while waiting for 0x%X", answer_code, code)
                continue
            if isinstance(event, BadFrame):
                naks += 1
                if naks > self.timeouts.attempts:
                    return None
                log.info("answer damaged (%s); NAK so the device sends it again", event.reason)
                self._port.write(bytes([NAK]))
                deadline = time.monotonic() + timeout
            # Control bytes and garbage between frames carry nothing here.

    def _recover(self, code: int, timeout: float) -> bytes | None:
        """After a missing answer: ENQ (never the command). ACK -> read the answer; NAK -> None (unknown)."""
        for _ in range(max(1, self.timeouts.attempts)):
            self._port.write(bytes([ENQ]))
            event = self._port.next_event(self.timeouts.enq)
            if isinstance(event, Control) and event.byte == ACK:
                body = self._read_answer(code, timeout)
                if body is not None:
                    return body
                continue
            if isinstance(event, Frame | BadFrame):
                self._port.push_back(event)
                body = self._read_answer(code, timeout)
                if body is not None:
                    return body
                continue
            if isinstance(event, Control) and event.byte == NAK:
                return None  # idle with nothing pending: the answer is lost for good
            # silence: the device may be busy or gone; ask again
        return None
