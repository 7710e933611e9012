"""Per-row checks with Russian reasons: required fields, price > 0, EAN-13, units, optical grid, duplicates.

Each failed check adds a ``Reason`` (stable ``code``, the ``field``, a Russian ``message`` for the managers
who read the rejected-rows report); a row with any reason is rejected, the others go on. The optical grid
is not imported here: the caller passes ``grid_check(field, value) -> Decimal`` (see ``grids.py``), so the
engine stays free of optics_core and of Odoo.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from .fields import FIELDS, OPTICAL, unit_key
from .values import format_number, shown

#: A grid check: the accepted value (quantized to the grid) or ``ValueError`` with a Russian message.
GridCheck = Callable[[str, Decimal], Decimal]

REQUIRED = "required"
BAD_VALUE = "bad_value"
PRICE_NOT_POSITIVE = "price_not_positive"
BAD_BARCODE = "bad_barcode"
UNKNOWN_UNIT = "unknown_unit"
OFF_GRID = "off_grid"
DUPLICATE = "duplicate"
REASON_CODES = (REQUIRED, BAD_VALUE, PRICE_NOT_POSITIVE, BAD_BARCODE, UNKNOWN_UNIT, OFF_GRID, DUPLICATE)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a row is rejected: ``code`` (one of ``REASON_CODES``), ``field``, Russian ``message``."""

    code: str
    field: str | None
    message: str


def ean13_check_digit(first12: str) -> int:
    """The check digit of an EAN-13 from its first 12 digits (weights 1, 3, 1, 3 … from the left)."""
    total = sum(map(int, first12[0::2])) + 3 * sum(map(int, first12[1::2]))
    return (10 - total % 10) % 10


def ean13_problem(code: str) -> str | None:
    """None for a valid EAN-13, else the Russian reason."""
    if len(code) != 13 or not (code.isascii() and code.isdigit()):
        return f"Штрихкод «{shown(code)}» не EAN-13: нужно ровно 13 цифр"
    expected = ean13_check_digit(code[:12])
    if int(code[12]) != expected:
        return f"Штрихкод «{code}» не EAN-13: неверная контрольная цифра {code[12]} (должна быть {expected})"
    return None


class DuplicateTracker:
    """First row of every supplier SKU and barcode seen in the file; a later row with the same one is refused.

    The first occurrence counts whether or not its own row passed (the file has the value twice either way).
    """

    _TEXT = {"supplier_sku": "Артикул поставщика", "barcode": "Штрихкод"}

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], int] = {}

    def check(self, field_code: str, value: str, row: int) -> Reason | None:
        first = self._seen.setdefault((field_code, value), row)
        if first == row:
            return None
        return Reason(
            DUPLICATE,
            field_code,
            f"{self._TEXT[field_code]} «{value}» повторяется: уже есть в строке {first}",
        )


def required_reason(field_code: str) -> Reason:
    return Reason(REQUIRED, field_code, f"Не заполнено обязательное поле «{FIELDS[field_code].label}»")


def check_values(
    values: dict,
    failed: set[str],
    *,
    required: tuple[str, ...],
    units: Mapping[str, str] | None,
    default_unit: str | None,
    grid_check: GridCheck | None,
) -> list[Reason]:
    """The checks of one row's read values (``failed``: fields whose cell could not be read). Updates
    ``values`` in place: the unit text becomes our unit code, optical values the grid's quantized ones."""
    reasons = []
    for code in required:
        if values.get(code) is None and code not in failed:
            reasons.append(required_reason(code))
    price = values.get("price")
    if price is not None and price <= 0:
        reasons.append(
            Reason(
                PRICE_NOT_POSITIVE, "price", f"Цена должна быть больше нуля, указано {format_number(price)}"
            )
        )
    barcode = values.get("barcode")
    if barcode is not None:
        problem = ean13_problem(barcode)
        if problem:
            reasons.append(Reason(BAD_BARCODE, "barcode", problem))
    if units is not None and "unit" not in failed:
        text = values.get("unit")
        if text is None:
            values["unit"] = default_unit
            if default_unit is None and "unit" in required and not any(r.field == "unit" for r in reasons):
                reasons.append(required_reason("unit"))
        else:
            unit = units.get(unit_key(text))
            if unit is None:
                known = ", ".join(sorted(units))
                reasons.append(
                    Reason(
                        UNKNOWN_UNIT,
                        "unit",
                        f"Неизвестная единица измерения «{shown(text)}» (известны: {known})",
                    )
                )
            values["unit"] = unit
    if grid_check is not None:
        for code in OPTICAL:
            value = values.get(code)
            if value is None:
                continue
            try:
                values[code] = grid_check(code, value)
            except ValueError as err:
                reasons.append(Reason(OFF_GRID, code, str(err)))
    return reasons
