"""One Shtrih-M command exchange: build the request, send it over the link, decode the answer or raise.

The error byte of an answer becomes ``KktDeviceError`` (retryable unless it is a receipt-data error); an
unreadable answer to a command that changes state is ``KktTimeout`` (the device executed it: reconcile).
"""

from __future__ import annotations

from typing import Any

from kkt_adapter.kkt.errors import KktDeviceError, KktProtocolError, KktTimeout
from kkt_adapter.kkt.link import ShtrihLink
from kkt_adapter.kkt.types import Timeouts
from kkt_adapter.shtrih import commands as cmd
from kkt_adapter.shtrih.codec import CodecError
from kkt_adapter.shtrih.errors import RECEIPT_DATA_ERRORS, describe


class ShtrihExchange:
    def __init__(self, port: str, baudrate: int, password: int, timeouts: Timeouts):
        self.timeouts = timeouts
        self.password = password
        self.link = ShtrihLink(port, baudrate, timeouts)
        # Per-command answer timeouts: Timeouts.extra keys are hex codes such as "FF45" or "E0".
        self._answer_timeouts = {cmd.parse_code(key): float(value) for key, value in timeouts.extra.items()}

    def call(self, command: cmd.Command, **values: Any) -> dict[str, Any]:
        """Send one command; return its decoded answer or raise KktDeviceError for a non-zero error byte."""
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
