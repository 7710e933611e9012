"""Validation of ``POST /v1/kkt/cash/in`` and ``/cash/out`` bodies (nothing is journaled on failure).

``{"amount": Money, "cashier": {"name": ..., "inn": ...}}`` — ``cashier`` optional. The amount follows
the receipt rules (roubles, at most two decimals, through ``Decimal``), is above 0 and at most
``[receipt] max_total``; the cashier is validated by the receipt validator's own ``cashier``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kkt_adapter.fiscal.request import FieldError, InvalidReceipt, _money, cashier

FIELDS = {"amount", "cashier"}


class InvalidCashOperation(InvalidReceipt):
    """One or more fields of a cash in / cash out are invalid; ``errors`` lists every one of them."""

    code = "invalid_cash_operation"


@dataclass(frozen=True)
class ValidatedCash:
    amount: int  # kopecks
    cashier_name: str | None
    cashier_inn: str | None


def validate_cash(body: Any, *, max_total: int) -> ValidatedCash:
    """Return the validated operation or raise ``InvalidCashOperation`` listing every problem found."""
    if not isinstance(body, dict):
        raise InvalidCashOperation([FieldError("$", "the body must be a JSON object")])
    errors: list[FieldError] = []
    for key in sorted(set(body) - FIELDS):
        errors.append(FieldError(key, "unknown field"))
    amount = None
    if "amount" not in body:
        errors.append(FieldError("amount", "required: roubles, e.g. 500.00"))
    else:
        amount = _money(body["amount"], "amount", errors)
    if amount is not None and amount > max_total:
        errors.append(FieldError("amount", f"{amount / 100:.2f} exceeds the limit {max_total / 100:.2f}"))
    who = cashier(body.get("cashier"), errors)
    if errors or amount is None:
        raise InvalidCashOperation(errors)
    return ValidatedCash(
        amount=amount,
        cashier_name=who.name if who else None,
        cashier_inn=who.inn if who else None,
    )
