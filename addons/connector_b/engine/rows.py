"""One product row of a price list read into normalised values, its original cells and its reasons.

``ProductRows.read(number, cells)`` takes the mapped cells (layout order), reads each by its field's kind
(``values.py``), runs the row checks (``validate.py``) and the in-file duplicate check on the supplier SKU
and the barcode, and adds the retail price when the profile has a retail rule. A blank row, or one whose
``skip_if_empty`` fields are all empty (a section title inside the list), is skipped: None.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import NamedTuple

from .errors import CellError
from .fields import FIELDS
from .layout import Layout
from .profile import Profile
from .validate import BAD_VALUE, DuplicateTracker, GridCheck, Reason, check_values
from .values import clean_text, parse_decimal, parse_money, parse_quantity


class Pending(NamedTuple):
    """A row read and checked, before its price is compared with today's (``pipeline`` classifies it)."""

    source_row: int
    source_cell: str | None
    key: str | None
    values: dict
    raw: tuple
    reasons: list[Reason]


def _barcode(value) -> str | None:
    text = clean_text(value)
    return text.replace(" ", "") if text else None


def converters(profile: Profile, rate: Decimal | None) -> dict[str, Callable]:
    """Reader of a cell by field kind, with the profile's transforms bound."""
    comma = profile.decimal_comma
    return {
        "code": clean_text,
        "text": clean_text,
        "unit": clean_text,
        "barcode": _barcode,
        "money": lambda v: parse_money(v, decimal_comma=comma, rate=rate),
        "quantity": lambda v: parse_quantity(v, decimal_comma=comma),
        "optical": lambda v: parse_decimal(v, decimal_comma=comma),
    }


class ProductRows:
    """Reads the data rows of a ``products`` profile (one price-list line → one row)."""

    def __init__(
        self, profile: Profile, layout: Layout, *, rate: Decimal | None, grid_check: GridCheck | None
    ):
        self.profile = profile
        self.layout = layout
        self.grid_check = grid_check
        self.duplicates = DuplicateTracker()
        read = converters(profile, rate)
        self._columns = [
            (code, index, FIELDS[code].label, read[FIELDS[code].kind])
            for code, index in zip(layout.fields, layout.indexes, strict=True)
        ]
        self._units = profile.units if "unit" in profile.columns else None
        self._skip_if_empty = profile.skip_if_empty

    def read(self, number: int, cells: tuple) -> Pending | None:  # pylint: disable=method-required-super
        width = len(cells)
        raw = tuple(cells[index] if index < width else None for _, index, _, _ in self._columns)
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in raw):
            return None
        values: dict = {}
        reasons: list[Reason] = []
        failed: set[str] = set()
        for (code, _, label, convert), cell in zip(self._columns, raw, strict=True):
            try:
                values[code] = convert(cell)
            except CellError as err:
                failed.add(code)
                reasons.append(Reason(BAD_VALUE, code, f"{label}: {err}"))
        if self._skip_if_empty and all(
            values.get(f) is None and f not in failed for f in self._skip_if_empty
        ):
            return None
        profile = self.profile
        reasons += check_values(
            values,
            failed,
            required=profile.required,
            units=self._units,
            default_unit=profile.default_unit,
            grid_check=self.grid_check,
        )
        for code in ("supplier_sku", "barcode"):
            value = values.get(code)
            if value is not None:
                duplicate = self.duplicates.check(code, value, number)
                if duplicate:
                    reasons.append(duplicate)
        if profile.retail is not None and values.get("price") is not None and values["price"] > 0:
            values["retail_price"] = profile.retail.retail_price(values["price"], values.get("category"))
        return Pending(number, None, values.get(profile.upsert_key), values, raw, reasons)
