"""Sample supplier price lists for connector_b (three suppliers) and large generated ones for the benchmark.

The three samples live in ``addons/connector_b/data/samples/`` (committed: the addon shows them as
examples and its tests read them); this module is their one source. Regenerate after changing the data:

    .venv/bin/python -m tests.kit.supplier_samples addons/connector_b/data/samples

tests/unit/test_import_engine_samples.py checks that the committed files are what this module writes (CSV
byte for byte, xlsx cell for cell: an xlsx zip carries its write time). Each sample has a few deliberately
bad rows, listed in ``EXPECTED_REJECTED`` with the reason codes the engine must give them.

- ``linzmaster_lenses.xlsx`` — spectacle lenses: sheet «Прайс» (letterhead, then the list; prices as
  numbers and as text with NBSP and a decimal comma) and sheet «Наличие 1.56 AR», a stock grid Sph × Cyl.
- ``optima_frames.csv`` — frames: cp1251, ``;``, decimal commas, NBSP thousands, section title rows.
- ``aquaview_contacts.csv`` — contact lenses: UTF-8 with BOM, ``,``, decimal points and a quoted comma.
"""

from __future__ import annotations

import csv
import io
import random
import sys
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

NBSP, NNBSP = "\u00a0", "\u202f"
LENSES, FRAMES, CONTACTS = "linzmaster_lenses.xlsx", "optima_frames.csv", "aquaview_contacts.csv"


def ean13(first12: str) -> str:
    """``first12`` with its EAN-13 check digit (written out here, independent of the engine's)."""
    odd = sum(int(d) for d in first12[0::2])
    even = sum(int(d) for d in first12[1::2])
    return first12 + str((10 - (odd + 3 * even) % 10) % 10)


def wrong_check_digit(code: str) -> str:
    return code[:12] + str((int(code[12]) + 1) % 10)


def rub(amount: str, sep: str = NBSP) -> str:
    """``"4350.00"`` → ``"4 350,00"`` (the given thousands space, decimal comma)."""
    whole, _, kopecks = amount.partition(".")
    groups = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    return sep.join([whole, *groups]) + ("," + kopecks if kopecks else "")


# --- spectacle lenses (xlsx) -----------------------------------------------------------------------------

LENS_HEADER = ["Артикул", "Наименование", "Индекс", "Покрытие", "Категория", "Ед.", "Цена, руб.", "EAN-13"]


def lens_rows() -> list[list]:
    designs = [
        ("ЛМ-150-HC", "Линза 1.50 сфера, упрочнение", "1.50", "HC", 690.0),
        ("ЛМ-150-AR", "Линза 1.50 сфера, просветление", "1.50", "AR", 1250.0),
        ("ЛМ-156-AR", "Линза 1.56 AR", "1.56", "AR", "1 480,00"),
        ("ЛМ-156-BB", "Линза 1.56 Blue Block", "1.56", "AR+BB", "2\u00a0480,00"),
        ("ЛМ-160-AR", "Линза 1.60 асферическая AR", "1.60", "AR", 3150.5),
        ("ЛМ-160-PH", "Линза 1.60 фотохромная", "1.60", "AR", "4\u202f920,00"),
        ("ЛМ-167-AR", "Линза 1.67 асферическая AR", "1.67", "AR", 5890.0),
        ("ЛМ-174-AR", "Линза 1.74 асферическая AR", "1.74", "AR", "9\u00a0450,00"),
        ("ЛМ-PR-156", "Прогрессивная 1.56 AR", "1.56", "AR", 7800.0),
        ("ЛМ-PR-160", "Прогрессивная 1.60 AR", "1.60", "AR", "11\u00a0200,00"),
        ("ЛМ-OF-160", "Офисная 1.60 AR", "1.60", "AR", 6450.0),
        ("ЛМ-DR-160", "Линза для вождения 1.60", "1.60", "AR+NV", "5 240,50"),
        ("ЛМ-SP-150", "Линза 1.50 спортивная поликарбонат", "1.59", "HC", 2100.0),
    ]
    rows = []
    for i, (sku, name, index, coating, price) in enumerate(designs):
        unit = "пара" if sku.startswith("ЛМ-PR") else "шт"
        rows.append([sku, name, index, coating, "Линзы очковые", unit, price, ean13(f"46070011{i:04d}")])
    # Deliberately bad rows (see EXPECTED_REJECTED): zero price, wrong EAN check digit, a SKU again,
    # an unknown unit, a price that is text, no name.
    rows.append(
        ["ЛМ-150-UV", "Линза 1.50 UV400", "1.50", "UV", "Линзы очковые", "шт", 0, ean13("460700110100")]
    )
    rows.append(
        [
            "ЛМ-156-HC",
            "Линза 1.56 HC",
            "1.56",
            "HC",
            "Линзы очковые",
            "шт",
            990.0,
            wrong_check_digit(ean13("460700110101")),
        ]
    )
    rows.append(["ЛМ-150-AR", "Линза 1.50 AR (повтор)", "1.50", "AR", "Линзы очковые", "шт", 1290.0, None])
    rows.append(
        ["ЛМ-160-TR", "Линза 1.60 тонированная", "1.60", "Tint", "Линзы очковые", "кор", 3300.0, None]
    )
    rows.append(
        ["ЛМ-167-PH", "Линза 1.67 фотохромная", "1.67", "AR", "Линзы очковые", "шт", "по запросу", None]
    )
    rows.append(["ЛМ-150-KD", None, "1.50", "HC", "Линзы очковые", "шт", 540.0, None])
    return rows


GRID_CYL = [0.0, -0.25, -0.5, "-0,75", -1.0, -1.5, -2.0]


def grid_rows() -> list[list]:
    rng = random.Random(156)
    rows = []
    sphs = [Decimal("2.00") - Decimal("0.50") * i for i in range(17)]  # +2.00 … −6.00
    for sph in sphs:
        qty = [rng.choice([0, 0, 1, 2, 3, 4, 6, 8, 10, 12]) for _ in GRID_CYL]
        rows.append([float(sph), *qty])
    # Deliberately bad: a quantity as text with a unit, a negative quantity, an Sph off its 0.25 step,
    # an Sph row repeated (its cells duplicate the first one's SKUs).
    rows[3][2] = "5 шт"
    rows[6][4] = -2
    rows.append(["-3,30", 1, 0, 0, 2, 0, 0, 0])
    rows.append([-1.0, 0, 1, 0, 0, 0, 0, 0])
    for row in rows:
        row.append(sum(v for v in row[1:] if isinstance(v, int)))
    return rows


def write_lenses(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Прайс"
    sheet.append(["ООО «ЛинзМастер» — прайс-лист на очковые линзы"])
    sheet.append(["Действует с 01.12.2026. Цены в рублях с НДС, за штуку (прогрессивные — за пару)"])
    sheet.append([])
    sheet.append(LENS_HEADER)
    for row in lens_rows():
        sheet.append(row)
    stock = book.create_sheet("Наличие 1.56 AR")
    stock.append(["Линза 1.56 AR (ЛМ-156-AR): остатки на складе, шт."])
    stock.append([])
    stock.append(["Sph \\ Cyl", *GRID_CYL, "Итого"])
    for row in grid_rows():
        stock.append(row)
    stock.append(["Итого", *([None] * len(GRID_CYL)), None])
    book.properties.creator = "ЛинзМастер"
    book.save(path)


# --- frames (CSV, cp1251, ;) -----------------------------------------------------------------------------

FRAME_HEADER = [
    "Артикул",
    "Наименование",
    "Бренд",
    "Категория",
    "Цвет",
    "Размер",
    "Цена опт., руб.",
    "Ед. изм.",
    "Штрихкод",
]


def frame_rows() -> list[list[str]]:
    sections = {
        "Оправы металлические": [
            ("ОП-М-1001", "Оправа металл, полуобод", "Vista", "черный", "52-18-140", "2350.00"),
            ("ОП-М-1002", "Оправа металл, ободковая", "Vista", "золото", "54-17-140", "2780.00"),
            ("ОП-М-1003", "Оправа титан, безободковая", "TitanLine", "серебро", "53-18-145", "7450.00"),
            ("ОП-М-1004", "Оправа титан, ободковая", "TitanLine", "графит", "55-17-145", "6890.50"),
            ("ОП-М-1005", "Оправа металл детская", "Kido", "синий", "46-16-125", "1450.00"),
            ("ОП-М-1006", "Оправа металл, авиатор", "Vista", "бронза", "58-14-140", "3120.00"),
        ],
        "Оправы пластиковые": [
            ("ОП-П-2001", "Оправа ацетат, вайфарер", "Forma", "черепаха", "52-20-145", "3990.00"),
            ("ОП-П-2002", "Оправа ацетат, кошачий глаз", "Forma", "бордо", "51-19-140", "4350.00"),
            ("ОП-П-2003", "Оправа TR90, спорт", "Kido", "красный", "48-17-130", "1890.00"),
            ("ОП-П-2004", "Оправа ацетат премиум", "Maestro", "кристалл", "50-21-145", "12400"),
            ("ОП-П-2005", "Оправа пластик, круглая", "Forma", "прозрачный", "49-21-140", "2240.00"),
        ],
        "Солнцезащитные очки": [
            ("СЗ-3001", "Очки солнцезащитные поляризационные", "Sunny", "черный", "57-17-140", "3450.00"),
            ("СЗ-3002", "Очки солнцезащитные, градиент", "Sunny", "коричневый", "55-18-140", "2890.00"),
            ("СЗ-3003", "Очки солнцезащитные детские", "Kido", "розовый", "45-15-120", "990.00"),
        ],
    }
    rows = []
    n = 0
    for title, items in sections.items():
        rows.append([title] + [""] * (len(FRAME_HEADER) - 1))
        category = "Солнцезащитные очки" if title.startswith("Солнце") else "Оправы"
        for sku, name, brand, color, size, price in items:
            rows.append(
                [sku, name, brand, category, color, size, rub(price), "шт", ean13(f"46012345{n:04d}")]
            )
            n += 1
    # Deliberately bad rows: zero price, wrong EAN check digit, a SKU again, an unknown unit,
    # a price with two commas, no SKU.
    bad = [
        ["ОП-М-1007", "Оправа металл, образец", "Vista", "Оправы", "черный", "52-18-140", "0,00", "шт", ""],
        [
            "ОП-П-2006",
            "Оправа ацетат",
            "Forma",
            "Оправы",
            "олива",
            "52-19-145",
            rub("3690.00"),
            "шт",
            wrong_check_digit(ean13("460123450100")),
        ],
        [
            "ОП-М-1002",
            "Оправа металл, ободковая (повтор)",
            "Vista",
            "Оправы",
            "золото",
            "54-17-140",
            rub("2790.00"),
            "шт",
            "",
        ],
        ["ОП-П-2007", "Футляр жесткий", "Forma", "Аксессуары", "черный", "", "350,00", "кор.", ""],
        [
            "ОП-М-1008",
            "Оправа металл, круглая",
            "Vista",
            "Оправы",
            "серебро",
            "49-20-140",
            "4,350,00",
            "шт",
            "",
        ],
        ["", "Оправа без артикула", "Forma", "Оправы", "синий", "50-18-140", rub("2100.00"), "шт", ""],
    ]
    rows[4:4] = bad[:2]
    rows[11:11] = bad[2:4]
    return [*rows, *bad[4:]]


def write_frames(path: Path) -> None:
    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Прайс-лист ООО «Оптима-Оправа» от 01.12.2026 (цены оптовые, руб.)"])
    writer.writerow([])
    writer.writerow(FRAME_HEADER)
    writer.writerows(frame_rows())
    path.write_bytes(text.getvalue().encode("cp1251"))


# --- contact lenses (CSV, UTF-8 with BOM, ,) -------------------------------------------------------------

CONTACT_HEADER = ["SKU", "Наименование", "BC", "DIA", "Sph", "Уп.", "Цена", "EAN"]


def contact_rows() -> list[list[str]]:
    lines = [
        ("AV-D30", "АкваВью Дэйли 30 шт.", "8.6", "14.2", "1190.00"),
        ("AV-M6", "АкваВью Месячные 6 шт.", "8.4", "14.0", "1 890,00"),
        ("AV-T2W", "АкваВью Две недели 6 шт.", "8.7", "14.0", "1450.00"),
    ]
    powers = ["-1.00", "-2.25", "-3.50", "-5.00", "+1.50", "+3.00"]
    rows = []
    n = 0
    for sku, name, bc, dia, price in lines:
        for power in powers:
            rows.append(
                [f"{sku}{power}", f"{name} {power}", bc, dia, power, "уп", price, ean13(f"87654321{n:04d}")]
            )
            n += 1
    # Deliberately bad rows: Sph off its step, BC out of range, a negative price, an EAN again,
    # an unknown unit, a 12-digit code.
    rows += [
        [
            "AV-D30-2.30",
            "АкваВью Дэйли 30 шт. -2.30",
            "8.6",
            "14.2",
            "-2.30",
            "уп",
            "1190.00",
            ean13("876543210100"),
        ],
        [
            "AV-M6-4.00",
            "АкваВью Месячные 6 шт. -4.00",
            "10.5",
            "14.0",
            "-4.00",
            "уп",
            "1 890,00",
            ean13("876543210101"),
        ],
        [
            "AV-T2W-6.00",
            "АкваВью Две недели 6 шт. -6.00",
            "8.7",
            "14.0",
            "-6.00",
            "уп",
            "-150.00",
            ean13("876543210102"),
        ],
        ["AV-D30-6.00", "АкваВью Дэйли 30 шт. -6.00", "8.6", "14.2", "-6.00", "уп", "1190.00", rows[0][7]],
        [
            "AV-D90-1.00",
            "АкваВью Дэйли 90 шт. -1.00",
            "8.6",
            "14.2",
            "-1.00",
            "блистер",
            "2990.00",
            ean13("876543210103"),
        ],
        [
            "AV-M3-1.00",
            "АкваВью Месячные 3 шт. -1.00",
            "8.4",
            "14.0",
            "-1.00",
            "уп",
            "990.00",
            "876543210104",
        ],
    ]
    return rows


def write_contacts(path: Path) -> None:
    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=",", lineterminator="\r\n")
    writer.writerow(CONTACT_HEADER)
    writer.writerows(contact_rows())
    path.write_bytes(text.getvalue().encode("utf-8-sig"))


#: Source rows (and for the grid, cells) each sample must reject, with the reason codes expected.
EXPECTED_REJECTED = {
    "linzmaster_price": {
        18: {"price_not_positive"},
        19: {"bad_barcode"},
        20: {"duplicate"},
        21: {"unknown_unit"},
        22: {"bad_value"},
        23: {"required"},
    },
    "optima_frames": {
        8: {"price_not_positive"},
        9: {"bad_barcode"},
        15: {"duplicate"},
        16: {"unknown_unit"},
        25: {"bad_value"},
        26: {"required"},
    },
    # The stock grid by cell: a quantity «5 шт», a negative one, the Sph −3,30 row (7 cells off the grid),
    # the Sph −1,00 row again (its 7 cells repeat row 10's SKUs).
    "linzmaster_stock_156": {
        "C7": {"bad_value"},
        "E10": {"bad_value"},
        **{f"{c}21": {"off_grid"} for c in "BCDEFGH"},
        **{f"{c}22": {"duplicate"} for c in "BCDEFGH"},
    },
    "aquaview_contacts": {
        20: {"off_grid"},
        21: {"off_grid"},
        22: {"price_not_positive"},
        23: {"duplicate"},
        24: {"unknown_unit"},
        25: {"bad_barcode"},
    },
}


def write_samples(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    write_lenses(folder / LENSES)
    write_frames(folder / FRAMES)
    write_contacts(folder / CONTACTS)
    return [folder / LENSES, folder / FRAMES, folder / CONTACTS]


# --- large generated lists (benchmark) ------------------------------------------------------------------

LARGE_HEADER = ["Артикул", "Наименование", "Бренд", "Категория", "Ед. изм.", "Цена", "Штрихкод", "Остаток"]
LARGE_PROFILE = {
    "code": "bench_large",
    "name": "Генерированный прайс (бенчмарк)",
    "columns": {
        "supplier_sku": "Артикул",
        "name": "Наименование",
        "brand": "Бренд",
        "category": "Категория",
        "unit": "Ед. изм.",
        "price": "Цена",
        "barcode": "Штрихкод",
        "qty": "Остаток",
    },
    "retail": {"default_markup_percent": 100, "markup_percent": {"Оправы": 120}, "endings": ["90"]},
}


def large_rows(count: int, seed: int = 17, bad: bool = True):
    """``count`` rows of a frames-and-accessories list; about 1 % bad (zero price, wrong EAN) unless
    ``bad=False`` (every row valid, the same values otherwise: the Odoo import benchmark)."""
    rng = random.Random(seed)
    brands = ["Vista", "Forma", "Kido", "TitanLine", "Maestro", "Sunny"]
    categories = ["Оправы", "Солнцезащитные очки", "Аксессуары"]
    for i in range(count):
        price = Decimal(rng.randrange(30000, 1500000)) / 100
        code = ean13(f"46{i:010d}")
        if bad and i % 211 == 0:
            code = wrong_check_digit(code)
        if bad and i % 307 == 0:
            price = Decimal(0)
        yield [
            f"SKU-{i:07d}",
            f"Оправа модель {i} {rng.choice(['металл', 'ацетат', 'титан'])}",
            rng.choice(brands),
            rng.choice(categories),
            "шт",
            price,
            code,
            rng.randrange(0, 40),
        ]


def large_current_prices(count: int, seed: int = 29) -> dict[str, Decimal]:
    """Today's prices, one per row of the large list, as a store would have them: 60 % unchanged, 25 %
    within ±15 %, 10 % 25–40 % off (held), 5 % for products the list no longer has (its rows are new)."""
    rng = random.Random(seed)
    prices = {}
    for row in large_rows(count):
        draw = rng.random()
        if draw < 0.05:
            prices[f"OLD-{row[0]}"] = Decimal("500.00")
            continue
        price = row[5] or Decimal(100)
        if draw < 0.65:
            factor = Decimal(1)
        elif draw < 0.90:
            factor = Decimal(100 + rng.choice([-1, 1]) * rng.randint(1, 15)) / 100
        else:
            factor = Decimal(100 + rng.choice([-1, 1]) * rng.randint(25, 40)) / 100
        prices[row[0]] = (price / factor).quantize(Decimal("0.01"))
    return prices


def write_large_xlsx(path: Path, count: int) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Прайс")
    sheet.append(LARGE_HEADER)
    for i, row in enumerate(large_rows(count)):
        # Half the prices as numbers, half as text with NBSP and a decimal comma (as suppliers send them).
        row[5] = float(row[5]) if i % 2 else rub(f"{row[5]:.2f}")
        sheet.append(row)
    book.save(path)


def write_large_csv(path: Path, count: int, bad: bool = True) -> None:
    write_large_csv_rows(path, large_rows(count, bad=bad))


def write_large_csv_rows(path: Path, rows) -> None:
    """``rows`` (as ``large_rows`` yields them) as a supplier sends them: cp1251, ``;``, prices with NBSP
    thousands and a decimal comma."""
    with path.open("w", encoding="cp1251", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(LARGE_HEADER)
        for row in rows:
            row = list(row)
            row[5] = rub(f"{row[5]:.2f}")
            writer.writerow(row)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "addons/connector_b/data/samples")
    for written in write_samples(target):
        print(written)
