"""One Shtrih-M command exchange: build the request, send it over the link, decode the answer or raise.

The error byte of an answer becomes ``KktDeviceError`` (retryable unless it is a receipt-data error); an
unreadable answer to a command that changes state is ``KktTimeout`` (the device executed it: reconcile).
A Shtrih-M answers a fiscal command once the FN has recorded the document and prints it afterwards; a
command sent meanwhile is refused with 0x50 (not executed), so it is sent again once the short status no
longer shows the printing submode, for up to ``Timeouts.print_wait``.
"""

from __future__ import annotations

import time
from typing import Any

from kkt_adapter.kkt.errors import KktDeviceError, KktProtocolError, KktTimeout
from kkt_adapter.kkt.link import ShtrihLink
from kkt_adapter.kkt.types import Timeouts
from kkt_adapter.shtrih import commands as cmd
from kkt_adapter.shtrih.codec import CodecError
from kkt_adapter.shtrih.errors import PREVIOUS_STILL_PRINTING, RECEIPT_DATA_ERRORS, describe

#: Short-status submodes while the printer works: 4 full fiscal report, 5 an operation's document.
PRINTING_SUBMODES = frozenset({4, 5})
#: Pause between short-status polls while the printer works (a poll is ~3 ms on the line at 115200 baud).
PRINT_POLL_SECONDS = 0.02


class ShtrihExchange:
    def __init__(self, port: str, baudrate: int, password: int, timeouts: Timeouts):
        self.timeouts = timeouts
        self.password = password
        self.link = ShtrihLink(port, baudrate, timeouts)
        # Per-command answer timeouts: Timeouts.extra keys are hex codes such as "FF45" or "E0".
        self._answer_timeouts = {cmd.parse_code(key): float(value) for key, value in timeouts.extra.items()}

    def call(self, command: cmd.Command, **values: Any) -> dict[str, Any]:
        """Send one command; return its decoded answer or raise KktDeviceError for a non-zero error byte.

        A refusal because the previous document is still printing is waited out and the command sent again.
        """
        deadline = time.monotonic() + self.timeouts.print_wait
        while True:
            try:
                return self._call_once(command, values)
            except KktDeviceError as exc:
                if exc.code != PREVIOUS_STILL_PRINTING or time.monotonic() >= deadline:
                    raise
            self._wait_printed(deadline)

    def _wait_printed(self, deadline: float) -> None:
        """Poll the short status until the printer is done or ``deadline`` passes."""
        while time.monotonic() < deadline:
            time.sleep(PRINT_POLL_SECONDS)
            if self._call_once(cmd.SHORT_STATUS, {})["submode"] not in PRINTING_SUBMODES:
                return

    def _call_once(self, command: cmd.Command, values: dict[str, Any]) -> dict[str, Any]:
        if not self.link.is_open:
            self.link.open()
        body = cmd.build_request(command, self.password, **values)
        answer = self.link.transact(
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
