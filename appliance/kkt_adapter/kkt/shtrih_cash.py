"""Cash in / cash out on a Shtrih-M KKT (50 / 51) and the registers that count them (1A, 1B).

Neither is a fiscal document: the FN signs nothing, the KKT prints the document, counts it (operation
registers 155 / 156, and 152 the through number of every document) and moves the cash in its drawer (money
register 241). After a lost answer the caller compares those counters with the ones read before sending.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kkt_adapter.kkt.errors import KktDeviceError, KktInsufficientCash
from kkt_adapter.kkt.types import CashCounters, CashDocument
from kkt_adapter.shtrih import commands as cmd
from kkt_adapter.shtrih import errors as device_errors


class ShtrihCash:
    """The cash part of ``ShtrihDriver`` (a mixin: it sends through the driver's ``_call``)."""

    _call: Callable[..., dict[str, Any]]

    def cash_in(self, amount: int) -> CashDocument:
        return self._cash(cmd.CASH_IN, amount)

    def cash_out(self, amount: int) -> CashDocument:
        return self._cash(cmd.CASH_OUT, amount)

    def cash_counters(self) -> CashCounters:
        def register(number: int) -> int:
            return self._call(cmd.READ_OPERATION_REGISTER, register=number)["value"]

        return CashCounters(
            document_number=register(cmd.OPERATION_DOCUMENT_NUMBER),
            cash_in_number=register(cmd.OPERATION_CASH_IN_NUMBER),
            cash_out_number=register(cmd.OPERATION_CASH_OUT_NUMBER),
        )

    def cash_in_drawer(self) -> int:
        return self._call(cmd.READ_MONEY_REGISTER, register=cmd.MONEY_CASH_IN_DRAWER)["value"]

    def _cash(self, command: cmd.Command, amount: int) -> CashDocument:
        if amount <= 0:  # too large for 5 bytes: the codec refuses it before anything is sent
            raise ValueError(f"a cash amount must be positive, not {amount} kopecks")
        try:
            answer = self._call(command, amount=amount)
        except KktDeviceError as exc:
            if exc.code == device_errors.INSUFFICIENT_CASH:
                raise KktInsufficientCash(exc.command, exc.code, exc.description) from exc
            raise
        return CashDocument(document_number=answer["document_number"])
