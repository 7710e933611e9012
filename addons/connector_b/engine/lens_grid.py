"""Supplier lens-stock grids (Sph rows × Cyl columns) expanded into one row per (Sph, Cyl) cell.

The grid's corner cell (``GridLayout.corner``, e.g. «Sph \\ Cyl») is found in the first rows; Cyl values
follow it to the right (read and grid-checked once per column), Sph values run down below it (once per
row). A cell holds a quantity (empty, «-» or «нет» = 0) or a price (empty = not offered, no row). Each
cell's row carries the design's SKU with its powers (``sku_format``), the source row and the cell address
(``C12``) for the report; a bad Sph or Cyl rejects every cell of its row or column with that reason.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from .errors import CellError, ImportFileError
from .fields import FIELDS
from .layout import Rows, header_key
from .profile import HEADER_SCAN_ROWS, Profile
from .rows import Pending
from .validate import BAD_VALUE, OFF_GRID, DuplicateTracker, GridCheck, Reason, check_values
from .values import clean_text, parse_decimal, parse_money, parse_quantity


def column_letter(index: int) -> str:
    """Excel letter of a 0-based column index (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


class Axis(NamedTuple):
    """One Sph row or Cyl column: its cell's raw value, the checked value (None if refused) and reasons."""

    raw: object
    value: Decimal | None
    reasons: tuple[Reason, ...]


def _read_power(code: str, raw, comma: bool, grid_check: GridCheck) -> Axis:
    label = FIELDS[code].label
    try:
        value = parse_decimal(raw, decimal_comma=comma)
    except CellError as err:
        return Axis(raw, None, (Reason(BAD_VALUE, code, f"{label}: {err}"),))
    try:
        return Axis(raw, grid_check(code, value), ())
    except ValueError as err:
        return Axis(raw, None, (Reason(OFF_GRID, code, str(err)),))


class GridRows:
    """Reads the rows of a ``lens_grid`` profile: each Sph row → one row per Cyl column."""

    def __init__(
        self, rows: Rows, profile: Profile, where: str, *, rate: Decimal | None, grid_check: GridCheck
    ):
        self.profile = profile
        self.grid = grid = profile.grid
        self.rate = rate
        self.grid_check = grid_check
        self.duplicates = DuplicateTracker()
        self._skip = {header_key(label) for label in grid.skip_labels}
        corner = header_key(grid.corner)
        candidates = [r for r in rows if r[0] == profile.header_row] if profile.header_row else rows
        for number, cells in candidates:
            hits = [i for i, cell in enumerate(cells) if header_key(cell).startswith(corner)]
            if hits:
                self.header_row, self.sph_index = number, hits[0]
                self.corner_text = clean_text(cells[hits[0]])
                self.columns = self._columns(cells)
                break
        else:
            scope = (
                f"в строке {profile.header_row}"
                if profile.header_row
                else f"в первых {HEADER_SCAN_ROWS} строках"
            )
            raise ImportFileError(
                "header_not_found",
                f"{where}: не найдена сетка Sph × Cyl — {scope} нет ячейки, начинающейся с «{grid.corner}»",
            )
        if not self.columns:
            raise ImportFileError(
                "header_not_found",
                f"{where}: в строке {self.header_row} правее «{self.corner_text}» нет значений цилиндра "
                "(Cyl)",
            )
        self.labels = ("Sph", "Cyl", "Цена" if grid.cells == "price" else "Количество")

    def _columns(self, header: tuple) -> list[tuple[int, Axis]]:
        columns = []
        for index in range(self.sph_index + 1, len(header)):
            raw = header[index]
            key = header_key(raw)
            if not key:
                break
            if key in self._skip:
                continue
            columns.append((index, _read_power("cyl", raw, self.profile.decimal_comma, self.grid_check)))
        return columns

    def read(self, number: int, cells: tuple) -> list[Pending]:  # pylint: disable=method-required-super
        width = len(cells)
        sph_raw = cells[self.sph_index] if self.sph_index < width else None
        grid_cells = [cells[i] if i < width else None for i, _ in self.columns]
        key = header_key(sph_raw)
        if key in self._skip or (not key and all(c is None or str(c).strip() == "" for c in grid_cells)):
            return []
        sph = _read_power("sph", sph_raw, self.profile.decimal_comma, self.grid_check)
        return [
            pending
            for (index, cyl), raw in zip(self.columns, grid_cells, strict=True)
            if (pending := self._cell(number, index, sph, cyl, raw)) is not None
        ]

    def _cell(self, number: int, index: int, sph: Axis, cyl: Axis, raw) -> Pending | None:
        grid, comma = self.grid, self.profile.decimal_comma
        reasons = [*sph.reasons, *cyl.reasons]
        values: dict = {"sph": sph.value, "cyl": cyl.value, "name": grid.name}
        try:
            if grid.cells == "price":
                values["price"] = parse_money(raw, decimal_comma=comma, rate=self.rate)
                if values["price"] is None:
                    return None  # not offered in this power
            else:
                values["qty"] = parse_quantity(raw, decimal_comma=comma)
                if grid.price is not None:
                    values["price"] = parse_money(grid.price, rate=self.rate)
        except CellError as err:
            label = FIELDS["price" if grid.cells == "price" else "qty"].label
            reasons.append(Reason(BAD_VALUE, grid.cells, f"{label}: {err}"))
        reasons += check_values(values, set(), required=(), units=None, default_unit=None, grid_check=None)
        sku = None
        if sph.value is not None and cyl.value is not None:
            sku = grid.sku_format.format(sku=grid.sku, sph=sph.value, cyl=cyl.value)
            duplicate = self.duplicates.check("supplier_sku", sku, number)
            if duplicate:
                reasons.append(duplicate)
        values["supplier_sku"] = sku
        retail = self.profile.retail
        if retail is not None and values.get("price") is not None and values["price"] > 0:
            values["retail_price"] = retail.retail_price(values["price"], None)
        cell = f"{column_letter(index)}{number}"
        return Pending(number, cell, sku, values, (sph.raw, cyl.raw, raw), reasons)
