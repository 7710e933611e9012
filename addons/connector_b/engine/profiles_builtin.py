"""Profiles of the three sample suppliers, as the dicts ``Profile.from_dict`` takes (and the model stores).

- ЛинзМастер, spectacle lenses (xlsx): the price sheet «Прайс» and the stock grid «Наличие 1.56 AR»;
- Оптима-Оправа, frames (CSV cp1251, ``;``, decimal commas, section title rows skipped);
- АкваВью, contact lenses (CSV UTF-8 with BOM, ``,``), matched by barcode, powers checked on the grids.

Their sample files are ``data/samples/`` (``SAMPLES``). The addon creates these profiles at install.
"""

from __future__ import annotations

LINZMASTER_PRICE = {
    "code": "linzmaster_price",
    "name": "ЛинзМастер — очковые линзы, прайс",
    "sheet": "Прайс",
    "columns": {
        "supplier_sku": "Артикул",
        "name": "Наименование",
        "category": "Категория",
        "unit": "Ед.",
        "price": "Цена, руб.",
        "barcode": "EAN-13",
    },
    "upsert_key": "supplier_sku",
    "retail": {"default_markup_percent": 100, "endings": ["90"]},
}

LINZMASTER_STOCK_156 = {
    "code": "linzmaster_stock_156",
    "name": "ЛинзМастер — наличие 1.56 AR (сетка Sph × Cyl)",
    "kind": "lens_grid",
    "sheet": "Наличие 1.56 AR",
    "grid": {
        "sku": "ЛМ-156-AR",
        "name": "Линза 1.56 AR",
        "corner": "Sph",
        "cells": "qty",
        "price": "1480.00",
    },
}

OPTIMA_FRAMES = {
    "code": "optima_frames",
    "name": "Оптима-Оправа — оправы и солнцезащитные очки",
    "columns": {
        "supplier_sku": "Артикул",
        "name": "Наименование",
        "brand": "Бренд",
        "category": "Категория",
        "price": "Цена опт., руб.",
        "unit": "Ед. изм.",
        "barcode": "Штрихкод",
    },
    "upsert_key": "supplier_sku",
    # Section titles («Оправы металлические», in the SKU column): no name, no price — skipped, not rejected.
    "skip_if_empty": ["name", "price"],
    "retail": {
        "default_markup_percent": 100,
        "markup_percent": {"Оправы": 150, "Солнцезащитные очки": 120},
        "endings": ["90", "99"],
    },
}

AQUAVIEW_CONTACTS = {
    "code": "aquaview_contacts",
    "name": "АкваВью — контактные линзы",
    "columns": {
        "supplier_sku": "SKU",
        "name": "Наименование",
        "bc": "BC",
        "dia": "DIA",
        "sph": "Sph",
        "unit": "Уп.",
        "price": "Цена",
        "barcode": "EAN",
    },
    "upsert_key": "barcode",
    "required": ["name", "price", "unit", "sph"],
    "retail": {"default_markup_percent": 60, "endings": ["90"]},
}

BUILTIN_PROFILES = {
    p["code"]: p for p in (LINZMASTER_PRICE, LINZMASTER_STOCK_156, OPTIMA_FRAMES, AQUAVIEW_CONTACTS)
}
#: The sample file of each profile, relative to the addon's folder.
SAMPLES = {
    "linzmaster_price": "data/samples/linzmaster_lenses.xlsx",
    "linzmaster_stock_156": "data/samples/linzmaster_lenses.xlsx",
    "optima_frames": "data/samples/optima_frames.csv",
    "aquaview_contacts": "data/samples/aquaview_contacts.csv",
}
