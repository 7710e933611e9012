"""Import profiles as plain data: a frozen ``Profile`` built from (and back to) the dict the model stores.

A profile says where the table is (sheet, header row or its detection), which column feeds which field
(a header name, or ``{"column": "B"}`` for a letter), how values are transformed (decimal comma, currency
rate, unit texts), which field matches existing products (supplier SKU or barcode), what makes a price
change wait for a manager (``hold_percent``, 20 % by default per the owner's plan) and, for the kind
``lens_grid``, how a supplier's Sph-rows × Cyl-columns stock sheet is laid out. ``from_dict`` checks
everything and raises ``ProfileError`` (Russian) on an unknown key, field, kind or value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from .errors import CellError, ProfileError
from .fields import DEFAULT_UNITS, FIELDS, UNIT_NAMES, UPSERT_KEYS, unit_key
from .pricing import RetailRule
from .values import parse_decimal

PRODUCTS, LENS_GRID = "products", "lens_grid"
KINDS = (PRODUCTS, LENS_GRID)
DEFAULT_HOLD_PERCENT = Decimal(20)
DEFAULT_CHUNK_SIZE = 1000
#: Rows searched for the header when the profile does not fix its row.
HEADER_SCAN_ROWS = 30
_LETTERS = re.compile(r"^[A-Z]{1,3}$")
_EMPTY = MappingProxyType({})


def column_index(letters: str) -> int:
    """0-based index of an Excel column letter (``A`` → 0, ``AA`` → 26)."""
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - ord("A") + 1
    return index - 1


@dataclass(frozen=True)
class ColumnRef:
    """A column named by its header text or by its Excel letter (exactly one of them)."""

    header: str | None = None
    letter: str | None = None

    @classmethod
    def parse(cls, value, where: str) -> ColumnRef:
        if isinstance(value, str) and value.strip():
            return cls(header=value.strip())
        if isinstance(value, Mapping) and len(value) == 1:
            ((kind, text),) = value.items()
            text = str(text).strip()
            if kind == "header" and text:
                return cls(header=text)
            if kind == "column" and _LETTERS.match(text.upper()):
                return cls(letter=text.upper())
        raise ProfileError(
            f'{where}: столбец задаётся названием заголовка или буквой {{"column": "B"}}, а не {value!r}'
        )

    def to_value(self):
        return self.header if self.header is not None else {"column": self.letter}

    def describe(self) -> str:
        return f"«{self.header}»" if self.header is not None else f"столбец {self.letter}"


@dataclass(frozen=True)
class GridLayout:
    """A lens-stock sheet: Sph down a column, Cyl across the header row, cells = quantities or prices.

    The grid's corner is the first cell (of the profile's ``header_row``, else of the first rows) whose text
    starts with ``corner`` (``Sph\\Cyl``, ``SPH/CYL`` …): Sph values are below it, Cyl values to its right
    up to the first empty header cell. Every cell becomes one row with the SKU ``sku_format`` of the design's
    ``sku``; columns or rows labelled with one of ``skip_labels`` (totals) are left out. With quantities in
    the cells, ``price`` (the list's currency) is the design's price for every cell.
    """

    sku: str
    name: str | None = None
    sku_format: str = "{sku}/{sph:+.2f}/{cyl:+.2f}"
    corner: str = "sph"
    cells: str = "qty"
    price: Decimal | None = None
    skip_labels: tuple[str, ...] = ("итого", "всего")

    @classmethod
    def from_dict(cls, data: Mapping) -> GridLayout:
        _no_unknown(data, {f for f in cls.__dataclass_fields__}, "Сетка линз")
        if not str(data.get("sku") or "").strip():
            raise ProfileError("Сетка линз: не задан артикул дизайна (sku)")
        cells = data.get("cells", "qty")
        if cells not in ("qty", "price"):
            raise ProfileError(f"Сетка линз: в ячейках количество (qty) или цена (price), а не «{cells}»")
        sku_format = str(data.get("sku_format") or cls.sku_format)
        try:
            sku_format.format(sku="X", sph=Decimal("-1.25"), cyl=Decimal("-0.5"))
        except (KeyError, ValueError, IndexError) as err:
            raise ProfileError(f"Сетка линз: шаблон артикула «{sku_format}» неверен ({err})") from err
        price = _decimal(data["price"], "Сетка линз, цена") if data.get("price") is not None else None
        if price is not None and price <= 0:
            raise ProfileError("Сетка линз: цена дизайна должна быть больше нуля")
        return cls(
            sku=str(data["sku"]).strip(),
            name=None if data.get("name") is None else str(data["name"]),
            sku_format=sku_format,
            corner=str(data.get("corner") or cls.corner),
            cells=cells,
            price=price,
            skip_labels=tuple(str(s) for s in data.get("skip_labels", cls.skip_labels)),
        )

    def to_dict(self) -> dict:
        return {
            "sku": self.sku,
            "name": self.name,
            "sku_format": self.sku_format,
            "corner": self.corner,
            "cells": self.cells,
            "price": None if self.price is None else str(self.price),
            "skip_labels": list(self.skip_labels),
        }


def _no_unknown(data: Mapping, known: set[str], where: str) -> None:
    if not isinstance(data, Mapping):
        raise ProfileError(f"{where}: ожидается словарь параметров, а не {type(data).__name__}")
    unknown = sorted(set(data) - known)
    if unknown:
        raise ProfileError(f"{where}: неизвестные параметры {', '.join(unknown)}")


def _decimal(value, where: str) -> Decimal:
    """A number typed into a profile, read like a cell (``1 480,00``, ``98.5``, ``20``)."""
    try:
        number = parse_decimal(value)
    except CellError as err:
        raise ProfileError(f"{where}: {err}") from err
    if number is None:
        raise ProfileError(f"{where}: значение не задано")
    return number


def _field_code(code: str, where: str) -> str:
    if code not in FIELDS:
        raise ProfileError(f"{where}: неизвестное поле «{code}»; поля: {', '.join(FIELDS)}")
    return code


@dataclass(frozen=True)
class Profile:
    """One supplier's price-list layout and rules (see the module docstring; dict form: ``to_dict``)."""

    code: str
    name: str
    kind: str = PRODUCTS
    sheet: str | None = None
    header_row: int | None = None
    columns: Mapping[str, ColumnRef] = field(default_factory=lambda: _EMPTY)
    required: tuple[str, ...] = ()
    upsert_key: str = "supplier_sku"
    decimal_comma: bool = True
    currency: str = "RUB"
    currency_rate: Decimal | None = None
    units: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(dict(DEFAULT_UNITS)))
    default_unit: str | None = None
    hold_percent: Decimal = DEFAULT_HOLD_PERCENT
    chunk_size: int = DEFAULT_CHUNK_SIZE
    skip_if_empty: tuple[str, ...] = ()
    encoding: str | None = None
    delimiter: str | None = None
    grid: GridLayout | None = None
    retail: RetailRule | None = None

    @classmethod
    def from_dict(cls, data: Mapping) -> Profile:
        _no_unknown(data, set(cls.__dataclass_fields__), "Профиль")
        code, name = str(data.get("code") or "").strip(), str(data.get("name") or "").strip()
        if not code or not name:
            raise ProfileError("Профиль: нужны код (code) и название (name)")
        kind = data.get("kind", PRODUCTS)
        if kind not in KINDS:
            raise ProfileError(f"Профиль «{name}»: вид «{kind}» неизвестен; виды: {', '.join(KINDS)}")
        where = f"Профиль «{name}»"
        header_row = data.get("header_row")
        if header_row is not None and (not isinstance(header_row, int) or header_row < 0):
            raise ProfileError(f"{where}: номер строки заголовка — целое число ≥ 0, а не {header_row!r}")
        columns = {
            _field_code(f, f"{where}, сопоставление столбцов"): ColumnRef.parse(ref, f"{where}, поле «{f}»")
            for f, ref in dict(data.get("columns") or {}).items()
        }
        upsert_key = data.get("upsert_key", "supplier_sku")
        if upsert_key not in UPSERT_KEYS:
            raise ProfileError(f"{where}: ключ сопоставления — supplier_sku или barcode, а не «{upsert_key}»")
        grid = None
        if kind == LENS_GRID:
            if data.get("grid") is None:
                raise ProfileError(f"{where}: для сетки линз нужен раздел grid")
            grid = GridLayout.from_dict(data["grid"])
            if upsert_key != "supplier_sku":
                raise ProfileError(f"{where}: строки сетки линз сопоставляются по артикулу (supplier_sku)")
        else:
            if data.get("grid") is not None:
                raise ProfileError(f"{where}: раздел grid бывает только у вида lens_grid")
            if upsert_key not in columns:
                raise ProfileError(f"{where}: ключ сопоставления «{upsert_key}» не сопоставлен со столбцом")
        if "required" in data:
            required = tuple(_field_code(f, f"{where}, обязательные поля") for f in data["required"])
        else:
            required = tuple(f for f in ("name", "price") if f in columns)
        if kind == PRODUCTS:
            required = (upsert_key, *(f for f in required if f != upsert_key))
        missing = [f for f in required if kind == PRODUCTS and f not in columns]
        if missing:
            raise ProfileError(f"{where}: обязательные поля без столбца: {', '.join(missing)}")
        units = dict(DEFAULT_UNITS)
        for text, unit in dict(data.get("units") or {}).items():
            if unit not in UNIT_NAMES:
                raise ProfileError(f"{where}: единица «{unit}» неизвестна; единицы: {', '.join(UNIT_NAMES)}")
            units[unit_key(str(text))] = unit
        default_unit = data.get("default_unit")
        if default_unit is not None and default_unit not in UNIT_NAMES:
            raise ProfileError(f"{where}: единица по умолчанию «{default_unit}» неизвестна")
        currency = str(data.get("currency") or "RUB").upper()
        rate = data.get("currency_rate")
        rate = _decimal(rate, f"{where}, курс валюты") if rate is not None else None
        if rate is not None and rate <= 0:
            raise ProfileError(f"{where}: курс валюты должен быть больше нуля")
        hold = _decimal(data.get("hold_percent", DEFAULT_HOLD_PERCENT), f"{where}, порог удержания цены")
        if hold < 0:
            raise ProfileError(f"{where}: порог удержания цены не может быть отрицательным")
        chunk_size = data.get("chunk_size", DEFAULT_CHUNK_SIZE)
        if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
            raise ProfileError(f"{where}: размер пакета — целое число ≥ 1, а не {chunk_size!r}")
        delimiter = data.get("delimiter")
        if delimiter is not None and delimiter not in (";", ",", "\t"):
            raise ProfileError(f"{where}: разделитель — «;», «,» или табуляция, а не {delimiter!r}")
        encoding = data.get("encoding")
        if encoding is not None and encoding not in ("utf-8", "utf-8-sig", "cp1251", "utf-16"):
            raise ProfileError(f"{where}: кодировка — utf-8, utf-8-sig, cp1251 или utf-16, а не {encoding!r}")
        retail = data.get("retail")
        return cls(
            code=code,
            name=name,
            kind=kind,
            sheet=None if data.get("sheet") is None else str(data["sheet"]),
            header_row=header_row,
            columns=MappingProxyType(columns),
            required=required,
            upsert_key=upsert_key,
            decimal_comma=bool(data.get("decimal_comma", True)),
            currency=currency,
            currency_rate=rate,
            units=MappingProxyType(units),
            default_unit=default_unit,
            hold_percent=hold,
            chunk_size=chunk_size,
            skip_if_empty=tuple(
                _field_code(f, f"{where}, skip_if_empty") for f in data.get("skip_if_empty", ())
            ),
            encoding=encoding,
            delimiter=delimiter,
            grid=grid,
            retail=RetailRule.from_dict(retail) if retail is not None else None,
        )

    def to_dict(self) -> dict:
        """The plain dict this profile is built from (JSON-serialisable: Decimals as strings)."""
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "sheet": self.sheet,
            "header_row": self.header_row,
            "columns": {f: ref.to_value() for f, ref in self.columns.items()},
            "required": list(self.required),
            "upsert_key": self.upsert_key,
            "decimal_comma": self.decimal_comma,
            "currency": self.currency,
            "currency_rate": None if self.currency_rate is None else str(self.currency_rate),
            "units": dict(self.units),
            "default_unit": self.default_unit,
            "hold_percent": str(self.hold_percent),
            "chunk_size": self.chunk_size,
            "skip_if_empty": list(self.skip_if_empty),
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "grid": None if self.grid is None else self.grid.to_dict(),
            "retail": None if self.retail is None else self.retail.to_dict(),
        }

    def label(self, field_code: str) -> str:
        """A field's name for messages: the Russian label of the field."""
        return FIELDS[field_code].label
