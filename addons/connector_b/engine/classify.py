"""Price changes against today's prices: new, changed up or down, unchanged — or held for a manager.

A change larger than the profile's ``hold_percent`` (20 % by default, the owner's plan) in either
direction is ``held``: it waits for a manager's approval while the rest applies. Exactly the threshold is
not held ("over 20 %"); the comparison is exact (no rounding of the percentage). A key without a current
price, or with a price of zero or less (nothing to compare with), is ``new``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

NEW = "new"
CHANGED_UP = "changed_up"
CHANGED_DOWN = "changed_down"
UNCHANGED = "unchanged"
HELD = "held"
REJECTED = "rejected"
STATUSES = (NEW, CHANGED_UP, CHANGED_DOWN, UNCHANGED, HELD, REJECTED)
STATUS_LABELS = {
    NEW: "новый",
    CHANGED_UP: "цена выросла",
    CHANGED_DOWN: "цена снизилась",
    UNCHANGED: "без изменений",
    HELD: "ждёт подтверждения",
    REJECTED: "отклонён",
}

#: Today's prices by upsert key: a mapping, or a callable given one chunk's keys that returns their prices
#: (the addon's form: one query per chunk). Values may be Decimal, float, int or None.
PriceLookup = Mapping[str, object] | Callable[[Sequence[str]], Mapping[str, object]]
_HUNDRED = Decimal(100)
_PERCENT_PLACES = Decimal("0.01")


def as_price(value) -> Decimal | None:
    """A current price from the database as Decimal (a float field read as its 2-decimal value)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(round(value, 2)))
    return Decimal(value)


def classify(
    price: Decimal | None, current: Decimal | None, hold_percent: Decimal
) -> tuple[str, Decimal | None]:
    """(status, change in percent rounded to 0.01 or None) of a new ``price`` against ``current``."""
    if current is None or current <= 0:
        return NEW, None
    if price is None:  # a row without a price (stock only) changes no price
        return UNCHANGED, None
    difference = price - current
    change = (difference * _HUNDRED / current).quantize(_PERCENT_PLACES, rounding=ROUND_HALF_UP)
    if difference == 0:
        return UNCHANGED, change
    if abs(difference) * _HUNDRED > hold_percent * current:
        return HELD, change
    return (CHANGED_UP if difference > 0 else CHANGED_DOWN), change


def lookup_prices(prices: PriceLookup | None, keys: Sequence[str]) -> Mapping[str, object]:
    """Today's prices of ``keys`` (one call of a callable lookup per chunk)."""
    if prices is None or not keys:
        return {}
    if isinstance(prices, Mapping):
        return prices
    return prices(keys)
