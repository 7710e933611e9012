"""Retail prices from supplier prices: a markup by category, then up to the store's price endings.

Pure functions: ``apply_markup(cost, percent)``, ``round_to_ending(price, endings)`` and ``RetailRule``
(markups by category with a default, and the endings) built from a plain dict as profiles store it.
Rounding goes up only (a margin is never cut by rounding) to whole roubles ending in one of the store's
endings: with ``("90", "99")`` 1 234,56 → 1 290,00, 1 290,00 stays, 1 290,01 → 1 299,00.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType

from .errors import ProfileError

CENT = Decimal("0.01")
_HUNDRED = Decimal(100)
#: Longest price ending a store uses (…9990 roubles): beyond it the rule is a typo.
_MAX_ENDING_DIGITS = 4


def category_key(category: str | None) -> str:
    """A category compared as written by hand: case and spaces do not matter."""
    return " ".join((category or "").split()).casefold()


def apply_markup(cost: Decimal, percent: Decimal) -> Decimal:
    """``cost`` raised by ``percent`` (150 → × 2.5), in kopecks rounded half up."""
    if cost <= 0:
        raise ValueError(f"cost must be positive, not {cost}")
    if percent < -100:
        raise ValueError(f"a markup below -100 % makes a negative price: {percent}")
    return (cost * (_HUNDRED + percent) / _HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def check_endings(endings: Iterable[str]) -> tuple[str, ...]:
    """Endings as digit strings of 1…4 digits (``"9"``, ``"90"``, ``"990"``); ``ValueError`` otherwise."""
    result = tuple(str(e) for e in endings)
    for ending in result:
        if not (ending.isascii() and ending.isdigit() and 1 <= len(ending) <= _MAX_ENDING_DIGITS):
            raise ValueError(f"a price ending is 1 to {_MAX_ENDING_DIGITS} digits, not {ending!r}")
    return result


def round_to_ending(price: Decimal, endings: Iterable[str]) -> Decimal:
    """The smallest whole-rouble price ≥ ``price`` whose last digits are one of ``endings``.

    No endings: ``price`` itself (kopecks kept). ``"90"`` → …90 (1 234,56 → 1 290), ``"9"`` → …9 (1 239),
    ``"990"`` → …990 (1 990). Among several endings the nearest one above wins.
    """
    return _round_up(price, check_endings(endings))


def _round_up(price: Decimal, endings: tuple[str, ...]) -> Decimal:
    if price <= 0:
        raise ValueError(f"price must be positive, not {price}")
    if not endings:
        return price.quantize(CENT, rounding=ROUND_HALF_UP)
    whole = int(price.to_integral_value(rounding=ROUND_CEILING))
    best = None
    for ending in endings:
        modulus, rest = 10 ** len(ending), int(ending)
        candidate = whole - whole % modulus + rest
        if candidate < whole:
            candidate += modulus
        best = candidate if best is None else min(best, candidate)
    return Decimal(best).quantize(CENT)


def _percent(value, what: str) -> Decimal:
    try:
        number = Decimal(str(value).replace(",", "."))
    except InvalidOperation as err:
        raise ProfileError(f"Наценка {what}: «{value}» — не число") from err
    if not number.is_finite() or number < -100:
        raise ProfileError(f"Наценка {what}: {value} % — недопустимое значение")
    return number


@dataclass(frozen=True)
class RetailRule:
    """Markup percent by category (keys as ``category_key``), a default markup, and the price endings."""

    default_markup: Decimal
    markups: Mapping[str, Decimal] = field(default_factory=lambda: MappingProxyType({}))
    endings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "endings", check_endings(self.endings))

    @classmethod
    def from_dict(cls, data: Mapping) -> RetailRule:
        """From ``{"default_markup_percent": 100, "markup_percent": {"Оправы": 150}, "endings": ["90"]}``."""
        unknown = set(data) - {"default_markup_percent", "markup_percent", "endings"}
        if unknown:
            raise ProfileError(f"Правило розничной цены: неизвестные параметры {sorted(unknown)}")
        if "default_markup_percent" not in data:
            raise ProfileError("Правило розничной цены: не задана наценка по умолчанию")
        markups = {
            category_key(k): _percent(v, f"для категории «{k}»")
            for k, v in dict(data.get("markup_percent") or {}).items()
        }
        try:
            endings = check_endings(data.get("endings") or ())
        except ValueError as err:
            raise ProfileError(
                f"Окончания цен: {data.get('endings')} — нужны цифры, например 90 или 99"
            ) from err
        return cls(
            default_markup=_percent(data["default_markup_percent"], "по умолчанию"),
            markups=MappingProxyType(markups),
            endings=endings,
        )

    def to_dict(self) -> dict:
        return {
            "default_markup_percent": str(self.default_markup),
            "markup_percent": {k: str(v) for k, v in self.markups.items()},
            "endings": list(self.endings),
        }

    def markup_for(self, category: str | None) -> Decimal:
        return self.markups.get(category_key(category), self.default_markup)

    def with_endings(self, endings: Iterable[str]) -> RetailRule:
        """The same markups with a store's own endings."""
        return RetailRule(self.default_markup, self.markups, check_endings(endings))

    def retail_price(self, cost: Decimal, category: str | None = None) -> Decimal:
        """The shelf price of an item bought at ``cost``: markup of its category, then the endings."""
        return _round_up(apply_markup(cost, self.markup_for(category)), self.endings)  # endings checked once
