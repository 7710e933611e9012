"""Device side of the Shtrih-M v1 link on a pseudo-terminal, with simulated line speed and injected faults.

The reader thread answers control bytes at once, even while a command executes: ENQ gets ACK when an answer
is pending or being prepared, NAK when idle. A good frame is ACKed and executed by a worker thread; its
answer stays pending (re-sent on ENQ or NAK) until the host ACKs it. A damaged frame is NAKed.
``busy_seconds`` adds up, per command, the wall time from the complete frame to the answer written.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
import tty
from pathlib import Path
from typing import Any

from kkt_adapter.shtrih import commands as cmd
from kkt_adapter.shtrih.frame import ACK, ENQ, NAK, BadFrame, Control, Frame, FrameParser, encode_frame
from kkt_emulator.device import Device
from kkt_emulator.faults import Faults

log = logging.getLogger(__name__)

POLL = 0.02  # seconds between checks of the stop flag and of the inter-byte timeout
BYTE_TIMEOUT = 0.1  # a frame whose bytes stop for this long is dropped (real devices: 50..150 ms)
BITS_PER_BYTE = 10  # 8N1: start + 8 data + stop
#: Commands a ``power_loss`` with ``after_print`` lets finish (and journal) before the power dies.
AFTER_PRINT_COMMANDS = frozenset({cmd.CLOSE_RECEIPT_V2.code, cmd.CASH_IN.code, cmd.CASH_OUT.code})


class PtyServer:
    def __init__(
        self,
        device: Device,
        link_path: str | os.PathLike[str],
        faults: Faults,
        *,
        baud: int = 115200,  # simulated line speed; 0 disables the simulation
        sign_delay: float = 0.0,  # seconds a printing command (E0, 40, 41, FF45…) takes before its answer
    ):
        self.device = device
        self.link_path = Path(link_path)
        self.faults = faults
        self.baud = baud
        self.sign_delay = sign_delay
        self.silent = False
        self._master = -1
        self._slave = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()  # guards the link state below and every write to the pty
        self._busy = False  # a command is executing
        self._pending: bytes | None = None  # answer frame sent, not yet ACKed by the host
        self._dead_until = 0.0  # monotonic time a power loss ends
        self._stats: dict[str, Any] = {
            "busy_seconds": 0.0,
            "commands": {},
            "enq": 0,
            "naks_sent": 0,
            "answers_resent": 0,
            "frames_ignored": 0,
            "power_losses": 0,
        }

    # ---- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line discipline: bytes pass as they are
        tmp = self.link_path.with_name(self.link_path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        os.symlink(os.ttyname(self._slave), tmp)
        os.replace(tmp, self.link_path)
        self._thread = threading.Thread(target=self._run, name="kkt-link", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            if self.link_path.is_symlink():
                self.link_path.unlink()
        except OSError:
            pass
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            data = dict(self._stats)
            data["commands"] = dict(self._stats["commands"])
        data["busy_seconds"] = round(data["busy_seconds"], 6)
        data["faults_fired"] = dict(self.faults.fired)
        data["silent"] = self.silent
        data["dead"] = time.monotonic() < self._dead_until
        return data

    # ---- reader thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        parser = FrameParser()
        last_byte = time.monotonic()
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], POLL)
            now = time.monotonic()
            if not ready:
                if parser.in_frame and now - last_byte > BYTE_TIMEOUT:
                    parser.abort()  # a frame cut short is dropped, as a real device does
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                time.sleep(POLL)  # no process has the tty open right now
                continue
            last_byte = now
            if self.silent or now < self._dead_until:
                parser = FrameParser()  # unplugged or without power: the bytes are lost
                continue
            for event in parser.feed(data):
                try:
                    self._on_event(event)
                except Exception:  # keep serving whatever one command did
                    log.exception("error handling %r", event)

    def _on_event(self, event: object) -> None:
        if isinstance(event, Control):
            self._on_control(event.byte)
        elif isinstance(event, Frame):
            self._on_frame(event.body)
        elif isinstance(event, BadFrame):
            with self._lock:
                self._stats["naks_sent"] += 1
                self._write(bytes([NAK]))

    def _on_control(self, byte: int) -> None:
        with self._lock:
            if byte == ENQ:
                self._stats["enq"] += 1
                if self._pending is not None:
                    self._stats["answers_resent"] += 1
                    self._write(bytes([ACK]) + self._pending)
                else:
                    self._write(bytes([ACK if self._busy else NAK]))
            elif byte == ACK:
                self._pending = None
            elif byte == NAK and self._pending is not None:
                self._stats["answers_resent"] += 1
                self._write(self._pending)

    def _on_frame(self, body: bytes) -> None:
        started = time.monotonic()
        try:
            code, _ = cmd.split_command(body)
        except ValueError:
            code = -1
        with self._lock:
            if self._busy:
                self._stats["frames_ignored"] += 1  # the host must wait for the answer first
                return
            if self.faults.take("corrupt_request", code):
                self._stats["naks_sent"] += 1
                self._write(bytes([NAK]))
                return
            self._pending = None  # a new command: the host has given up the previous answer
            power = self.faults.take("power_loss", code)
            if power is not None and not (power.after_print and code in AFTER_PRINT_COMMANDS):
                self._power_loss(power.seconds)
                return
            self._write(bytes([ACK]))
            if self.faults.take("no_answer", code):
                self._count(code, 0.0)
                return
            self._busy = True
        threading.Thread(
            target=self._execute, args=(body, code, started, power), name="kkt-cmd", daemon=True
        ).start()

    # ---- worker ----------------------------------------------------------------------------------

    def _execute(self, body: bytes, code: int, started: float, power: Any) -> None:
        counted = False
        try:
            self._line_delay(len(body) + 3)
            command = cmd.COMMANDS.get(code)
            refuse = self.faults.take("refuse", code)
            if refuse is not None:
                answer = cmd.build_answer(code, refuse.code)  # refused: nothing executed
            else:
                if command is not None and command.prints and self.sign_delay:
                    time.sleep(self.sign_delay)  # the FN records and signs the document
                answer = self.device.execute(body, started)
            self.device.fn.add_receipt_busy(time.monotonic() - started)
            if power is not None:  # after_print: the document is journaled, then the power dies
                with self._lock:
                    self._busy = False
                    self._power_loss(power.seconds)
                return
            slow = self.faults.take("slow", code)
            if slow is not None:
                time.sleep(slow.seconds)
            if self.faults.take("lost_answer", code):
                with self._lock:
                    self._busy = False
                return
            frame = encode_frame(answer)
            wire = frame
            if self.faults.take("corrupt", code):
                wire = frame[:-1] + bytes([frame[-1] ^ 0xFF])  # bad LRC once; the pending copy is good
            with self._lock:
                if time.monotonic() < self._dead_until or self.silent:
                    self._busy = False
                    return
                # Counted before the bytes go out (including their line time) so that a client reading the
                # stats right after it got the answer always sees this command.
                self._count(code, time.monotonic() - started + self._line_time(len(wire)))
                counted = True
                self._write(wire)
                self._pending = frame
                self._busy = False
            self._line_delay(len(wire))
        except Exception:
            log.exception("command 0x%X failed in the emulator", code)
            with self._lock:
                self._busy = False
        finally:
            if not counted:
                self._count(code, time.monotonic() - started)

    # ---- helpers ---------------------------------------------------------------------------------

    def _power_loss(self, seconds: float) -> None:
        """Caller holds the lock. The open receipt is lost and nothing is answered for ``seconds``."""
        self.device.fn.drop_open_receipt()
        self._pending = None
        self._dead_until = time.monotonic() + seconds
        self._stats["power_losses"] += 1
        log.warning("power loss for %.1f s", seconds)

    def _count(self, code: int, seconds: float) -> None:
        key = f"{code:02X}" if code >= 0 else "?"
        with self._lock:
            self._stats["busy_seconds"] += seconds
            self._stats["commands"][key] = self._stats["commands"].get(key, 0) + 1

    def _line_time(self, nbytes: int) -> float:
        return nbytes * BITS_PER_BYTE / self.baud if self.baud > 0 else 0.0

    def _line_delay(self, nbytes: int) -> None:
        if self.baud > 0:
            time.sleep(self._line_time(nbytes))

    def _write(self, data: bytes) -> None:
        """Caller holds the lock, so frames and control bytes never interleave."""
        try:
            os.write(self._master, data)
        except OSError as exc:
            log.warning("write to the pty failed: %s", exc)
