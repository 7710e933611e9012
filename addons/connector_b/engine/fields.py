"""The target fields a profile maps columns to, with their Russian labels and value kinds, and the units.

A field's kind decides how its cells are read (``values.py``) and checked (``validate.py``): ``code`` and
``text`` as clean text, ``barcode`` as EAN-13, ``money`` as roubles, ``quantity`` as a whole number,
``unit`` through the profile's unit map, ``optical`` as a number on the optical grid.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    code: str
    label: str
    kind: str


FIELDS: dict[str, Field] = {
    f.code: f
    for f in (
        Field("supplier_sku", "Артикул поставщика", "code"),
        Field("barcode", "Штрихкод", "barcode"),
        Field("name", "Наименование", "text"),
        Field("price", "Цена", "money"),
        Field("unit", "Единица измерения", "unit"),
        Field("category", "Категория", "text"),
        Field("brand", "Бренд", "text"),
        Field("qty", "Остаток", "quantity"),
        Field("sph", "Сфера (Sph)", "optical"),
        Field("cyl", "Цилиндр (Cyl)", "optical"),
        Field("axis", "Ось (Axis)", "optical"),
        Field("add", "Аддидация (Add)", "optical"),
        Field("bc", "Базовая кривизна (BC)", "optical"),
        Field("dia", "Диаметр (DIA)", "optical"),
    )
}
#: Fields a row can be matched to an existing product by.
UPSERT_KEYS = ("supplier_sku", "barcode")
#: Fields whose values are checked against the optical grid (the grid check callable decides).
OPTICAL = tuple(code for code, f in FIELDS.items() if f.kind == "optical")

#: Our unit codes (the addon maps them to ``uom.uom`` records) and their Russian names for messages.
UNIT_NAMES = {"unit": "штука", "pack": "упаковка", "pair": "пара"}
#: Unit texts suppliers write (normalised by ``unit_key``) → our unit code; a profile may add its own.
DEFAULT_UNITS = {
    "шт": "unit",
    "штука": "unit",
    "штук": "unit",
    "pcs": "unit",
    "pc": "unit",
    "уп": "pack",
    "упак": "pack",
    "упаковка": "pack",
    "пара": "pair",
    "пар": "pair",
}


def unit_key(text: str) -> str:
    """A unit text compared as suppliers vary it: case, spaces, a trailing dot (``Шт.`` = ``шт``)."""
    return " ".join(text.split()).casefold().rstrip(".").strip()
