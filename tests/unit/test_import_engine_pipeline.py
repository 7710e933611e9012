"""connector_b import engine: profiles, per-row validation, the held-price rule, lens grids, chunks, reports.

Every rejection reason with its Russian message; the 20 % hold at its boundaries (exact, both directions,
a property test against a reference); a lens-stock grid expanded into one row per (Sph, Cyl) cell with the
optical grid of optics_core (loaded by path); chunks with their source rows and a resume that skips
committed chunks yet still sees duplicates across them; the rejected-rows report read back from xlsx/CSV.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from tests.kit.connector_engine import engine, optical_grids

D = Decimal
ProfileError = engine.ProfileError
HEADER = ["Артикул", "Наименование", "Цена", "Ед.", "Штрихкод"]
BASE = {
    "code": "t",
    "name": "Тест",
    "columns": {
        "supplier_sku": "Артикул",
        "name": "Наименование",
        "price": "Цена",
        "unit": "Ед.",
        "barcode": "Штрихкод",
    },
}
EAN = "4006381333931"


def profile(**changes) -> engine.Profile:
    return engine.Profile.from_dict({**BASE, **changes})


def csv_bytes(rows, delimiter=";", encoding="cp1251") -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode(encoding)


def xlsx_bytes(rows, title="Лист1") -> bytes:
    book = Workbook()
    book.active.title = title
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run_rows(data, prof=None, **kw) -> list:
    return [row for chunk in engine.ImportRun(data, prof or profile(), **kw) for row in chunk.rows]


def one(row_cells, prof=None, **kw):
    (row,) = run_rows(csv_bytes([HEADER, row_cells]), prof, **kw)
    return row


# -- profiles ----------------------------------------------------------------------------------------------


def test_builtin_profiles_round_trip_through_their_dict():
    for data in engine.BUILTIN_PROFILES.values():
        prof = engine.Profile.from_dict(data)
        assert engine.Profile.from_dict(prof.to_dict()) == prof
        with pytest.raises(AttributeError):  # frozen: the job cannot change a profile under a run
            prof.kind = "x"


def test_profile_defaults():
    prof = profile()
    assert prof.kind == engine.PRODUCTS and prof.upsert_key == "supplier_sku"
    assert prof.required == ("supplier_sku", "name", "price")
    assert prof.hold_percent == D(20) and prof.chunk_size == 1000 and prof.decimal_comma
    assert prof.units["шт"] == "unit" and prof.units["уп"] == "pack" and prof.units["пара"] == "pair"
    assert profile(upsert_key="barcode").required == ("barcode", "name", "price")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"colour": "red"}, "неизвестные параметры colour"),
        ({"kind": "services"}, "вид «services» неизвестен"),
        ({"columns": {"supplier_sku": "Артикул", "weight": "Вес"}}, "неизвестное поле «weight»"),
        ({"columns": {"supplier_sku": ""}}, "столбец задаётся названием"),
        ({"columns": {"supplier_sku": {"column": "B2"}}}, "столбец задаётся названием"),
        ({"columns": {"name": "Наименование"}}, "ключ сопоставления «supplier_sku» не сопоставлен"),
        ({"upsert_key": "name"}, "supplier_sku или barcode"),
        ({"required": ["brand"]}, "обязательные поля без столбца: brand"),
        ({"units": {"кор": "box"}}, "единица «box» неизвестна"),
        ({"default_unit": "box"}, "единица по умолчанию «box»"),
        ({"currency_rate": "0"}, "курс валюты должен быть больше нуля"),
        ({"hold_percent": "-1"}, "не может быть отрицательным"),
        ({"hold_percent": "двадцать"}, "не число"),
        ({"chunk_size": 0}, "размер пакета"),
        ({"header_row": -1}, "номер строки заголовка"),
        ({"delimiter": "|"}, "разделитель"),
        ({"encoding": "koi8-r"}, "кодировка"),
        ({"grid": {"sku": "X"}}, "только у вида lens_grid"),
        ({"kind": "lens_grid"}, "нужен раздел grid"),
        ({"kind": "lens_grid", "grid": {"name": "X"}}, "не задан артикул"),
        ({"kind": "lens_grid", "grid": {"sku": "X", "cells": "weight"}}, "количество (qty) или цена"),
        ({"kind": "lens_grid", "grid": {"sku": "X", "sku_format": "{sku}{axis}"}}, "шаблон артикула"),
        ({"kind": "lens_grid", "grid": {"sku": "X", "price": "0"}}, "больше нуля"),
        ({"kind": "lens_grid", "upsert_key": "barcode", "grid": {"sku": "X"}}, "по артикулу"),
        ({"name": ""}, "нужны код (code) и название (name)"),
    ],
)
def test_a_wrong_profile_is_a_profile_error_in_russian(changes, words):
    with pytest.raises(ProfileError) as caught:
        profile(**changes)
    assert words in caught.value.message
    assert caught.value.code == "bad_profile"


def test_columns_by_letter_with_and_without_a_header():
    letters = {"supplier_sku": {"column": "A"}, "name": {"column": "B"}, "price": {"column": "c"}}
    data = csv_bytes([["A-1", "Оправа", "1 200,00"], ["A-2", "Линза", "990"]])
    rows = run_rows(data, profile(columns=letters, header_row=0))
    assert [(r.source_row, r.key, r.values["price"]) for r in rows] == [
        (1, "A-1", D("1200.00")),
        (2, "A-2", D("990.00")),
    ]
    mixed = {"supplier_sku": "Артикул", "price": {"column": "C"}, "name": "Наименование"}
    run = engine.ImportRun(csv_bytes([HEADER, ["A-1", "Оправа", "5", "шт", ""]]), profile(columns=mixed))
    assert run.report_columns == ("Артикул", "Наименование", "Цена")
    assert [r.values["price"] for c in run for r in c.rows] == [D("5.00")]


def test_header_names_match_loosely():
    data = csv_bytes(
        [["  АРТИКУЛ:", "наименование *", "Цена\u00a0", "ед", "Штрихкод."], ["A", "B", "1", "шт", ""]]
    )
    prof = profile(columns={**BASE["columns"], "unit": "Ед."})
    assert run_rows(data, prof)[0].status == engine.NEW


# -- validation reasons ------------------------------------------------------------------------------------


PRICE_ZERO = "Цена должна быть больше нуля, указано 0,00"
REASON_CASES = [
    (["", "Оправа", "100", "шт", ""], "required", "Не заполнено обязательное поле «Артикул поставщика»"),
    (["A", "", "100", "шт", ""], "required", "Не заполнено обязательное поле «Наименование»"),
    (["A", "Оправа", "", "шт", ""], "required", "Не заполнено обязательное поле «Цена»"),
    (["A", "Оправа", "сто", "шт", ""], "bad_value", "Цена: «сто» — не число"),
    (["A", "Оправа", "0,00", "шт", ""], "price_not_positive", PRICE_ZERO),
    (
        ["A", "Оправа", "-5", "шт", ""],
        "price_not_positive",
        "Цена должна быть больше нуля, указано \u22125,00",
    ),
    (
        ["A", "Оправа", "1", "шт", "4006381333932"],
        "bad_barcode",
        "Штрихкод «4006381333932» не EAN-13: неверная контрольная цифра 2 (должна быть 1)",
    ),
    (["A", "Оправа", "1", "шт", "12345"], "bad_barcode", "Штрихкод «12345» не EAN-13: нужно ровно 13 цифр"),
    (
        ["A", "Оправа", "1", "кор", ""],
        "unknown_unit",
        "Неизвестная единица измерения «кор» (известны: pc, pcs",
    ),
]


@pytest.mark.parametrize(("cells", "code", "message"), REASON_CASES)
def test_each_reason(cells, code, message):
    row = one(cells)
    assert row.status == engine.REJECTED and row.rejected
    assert [r.code for r in row.reasons] == [code]
    assert row.reasons[0].message.startswith(message)
    assert row.raw == tuple(c or None for c in cells)


def test_all_reasons_of_a_row_are_given_together():
    row = one(["", "", "0", "кор", "123"])
    assert [r.code for r in row.reasons] == [
        "required",
        "required",
        "price_not_positive",
        "bad_barcode",
        "unknown_unit",
    ]
    assert row.reasons_text().count("; ") == 4


def test_units_are_mapped_with_their_variants_and_a_default():
    prof = profile(units={"компл.": "unit"}, default_unit="unit")
    cells = [["A1", "x", "1", "Шт.", ""], ["A2", "x", "1", " УП ", ""], ["A3", "x", "1", "пара", ""],
             ["A4", "x", "1", "компл", ""], ["A5", "x", "1", "", ""]]  # fmt: skip
    rows = run_rows(csv_bytes([HEADER, *cells]), prof)
    assert [r.values["unit"] for r in rows] == ["unit", "pack", "pair", "unit", "unit"]
    required_unit = profile(required=["name", "unit"])
    assert one(["A5", "x", "1", "", ""], required_unit).reasons[0].message == (
        "Не заполнено обязательное поле «Единица измерения»"
    )


def test_duplicate_sku_and_barcode_name_the_first_row():
    rows = run_rows(
        csv_bytes(
            [
                HEADER,
                ["A1", "x", "1", "шт", EAN],
                ["A2", "x", "1", "шт", ""],
                ["A1", "y", "2", "шт", ""],
                ["A3", "z", "3", "шт", EAN],
            ]
        )
    )
    assert [r.status for r in rows] == ["new", "new", "rejected", "rejected"]
    assert rows[2].reasons[0].message == "Артикул поставщика «A1» повторяется: уже есть в строке 2"
    assert rows[3].reasons[0].message == f"Штрихкод «{EAN}» повторяется: уже есть в строке 2"


def test_the_first_occurrence_counts_even_when_its_row_was_rejected():
    rows = run_rows(csv_bytes([HEADER, ["A1", "x", "0", "шт", ""], ["A1", "x", "5", "шт", ""]]))
    assert [r.reasons[0].code for r in rows] == ["price_not_positive", "duplicate"]


def test_barcode_as_upsert_key_and_spaces_inside_a_barcode():
    prof = profile(upsert_key="barcode")
    row = one(["A", "x", "1", "шт", "4 006381 333931"], prof)
    assert row.key == EAN and row.values["barcode"] == EAN and row.status == engine.NEW
    assert (
        one(["A", "x", "1", "шт", ""], prof).reasons[0].message == "Не заполнено обязательное поле «Штрихкод»"
    )


def test_optical_values_are_checked_on_the_grid_given():
    columns = {**BASE["columns"], "sph": "Sph", "cyl": "Cyl", "bc": "BC"}
    prof = profile(columns=columns)
    header = [*HEADER, "Sph", "Cyl", "BC"]
    cells = [
        ["A1", "x", "1", "шт", "", "-2,25", "\u22120,5", "8.6"],
        ["A2", "x", "1", "шт", "", "-2,30", "", "10.5"],
        ["A3", "x", "1", "шт", "", "+31", "0", ""],
    ]
    rows = run_rows(csv_bytes([header, *cells], encoding="utf-8"), prof, grid_check=optical_grids())
    assert rows[0].values["sph"] == D("-2.25") and rows[0].values["cyl"] == D("-0.50")
    assert rows[0].values["bc"] == D("8.60")
    assert [r.message for r in rows[1].reasons] == [
        "Сфера (Sph): \u22122,30 не кратно шагу 0,25 дптр",
        "Базовая кривизна (BC): 10,50 вне допустимого диапазона 7,00…10,00 мм",
    ]
    assert rows[2].reasons[0].code == "off_grid" and "вне допустимого диапазона" in rows[2].reasons[0].message
    with pytest.raises(ValueError, match="grid_check"):
        engine.ImportRun(csv_bytes([header]), prof)


def test_a_grid_checker_without_a_fields_grid_refuses_rather_than_passes():
    checker = engine.grid_checker({})
    with pytest.raises(ValueError, match="не задана сетка"):
        checker("sph", D("1"))


def test_section_titles_are_skipped_not_rejected():
    prof = profile(skip_if_empty=["name", "price"])
    data = csv_bytes([HEADER, ["Оправы металлические"], ["A1", "x", "1", "шт", ""], [], ["", "", "", "", ""]])
    run = engine.ImportRun(data, prof)
    rows = [r for c in run for r in c.rows]
    assert [r.source_row for r in rows] == [3]
    assert run.counters.skipped == 3 and run.counters.rows == 1


def test_currency_conversion_and_retail_price():
    prof = profile(
        currency="eur", currency_rate="98,50", retail={"default_markup_percent": 100, "endings": ["90"]}
    )
    row = one(["A", "x", "12,34", "шт", ""], prof)
    assert row.values["price"] == D("1215.49")
    assert row.values["retail_price"] == D("2490.00")
    assert one(["A", "x", "12,34", "шт", ""], prof, currency_rate=D(100)).values["price"] == D("1234.00")
    with pytest.raises(ProfileError, match="курс к рублю не задан"):
        engine.ImportRun(csv_bytes([HEADER]), profile(currency="USD"))
    with pytest.raises(ProfileError, match="Курс EUR к рублю: «сто» — не число"):
        engine.ImportRun(csv_bytes([HEADER]), prof, currency_rate="сто")


# -- the held-price rule -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "current", "status", "change"),
    [
        ("120.00", "100", "changed_up", "20.00"),
        ("120.01", "100", "held", "20.01"),
        ("80.00", "100", "changed_down", "-20.00"),
        ("79.99", "100", "held", "-20.01"),
        ("100.00", "100", "unchanged", "0.00"),
        ("100.00", 100.0, "unchanged", "0.00"),
        ("1000.00", None, "new", None),
        ("1000.00", "0", "new", None),
        ("0.01", "100", "held", "-99.99"),
        ("1199.98", "999.99", "changed_up", "20.00"),  # 19.999 %: under the limit, shown rounded
        ("1199.99", "999.99", "held", "20.00"),  # 20.0002 %: over it, shown rounded the same
    ],
)
def test_hold_boundaries(price, current, status, change):
    prices = {"A": current if not isinstance(current, str) else D(current)}
    row = one(["A", "x", price, "шт", ""], prices=prices)
    assert row.status == status
    assert row.change_percent == (None if change is None else D(change))
    if current not in (None, "0"):
        assert row.current_price == D(str(current))


def test_hold_threshold_comes_from_the_profile():
    assert one(["A", "x", "111", "шт", ""], profile(hold_percent=10), prices={"A": D(100)}).status == "held"
    assert (
        one(["A", "x", "110", "шт", ""], profile(hold_percent="10"), prices={"A": D(100)}).status
        == "changed_up"
    )


@settings(max_examples=300)
@given(
    price=st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2),
    current=st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2),
    hold=st.integers(min_value=0, max_value=100),
)
def test_classification_matches_a_reference(price, current, hold):
    status, change = engine.classify(price, current, D(hold))
    ratio = price / current  # exact enough at 28 digits for the comparison below
    if price == current:
        assert status == "unchanged"
    elif abs(price - current) * 100 > hold * current:
        assert status == "held"
        assert abs(ratio - 1) * 100 > hold
    else:
        assert status == ("changed_up" if price > current else "changed_down")
    assert change == ((price - current) * 100 / current).quantize(D("0.01"), rounding="ROUND_HALF_UP")


def test_a_callable_lookup_is_asked_once_per_chunk_for_the_valid_keys():
    calls = []

    def lookup(keys):
        calls.append(list(keys))
        return {k: 100.0 for k in keys if k != "A2"}

    rows = [HEADER] + [[f"A{i}", "x", "100", "шт", ""] for i in range(5)] + [["A9", "x", "0", "шт", ""]]
    result = (
        run_rows(csv_bytes(rows), lookup=None)
        if False
        else run_rows(csv_bytes(rows), prices=lookup, chunk_size=4)
    )
    assert calls == [["A0", "A1", "A2", "A3"], ["A4"]]
    assert [r.status for r in result] == [
        "unchanged",
        "unchanged",
        "new",
        "unchanged",
        "unchanged",
        "rejected",
    ]


# -- lens grids --------------------------------------------------------------------------------------------

GRID_PROFILE = {
    "code": "g",
    "name": "Сетка",
    "kind": "lens_grid",
    "grid": {"sku": "L-156", "name": "Линза 1.56", "corner": "Sph", "price": "1 480,00"},
}


def grid_rows(prof=None, rows=None, **kw):
    sheet = rows or [
        ["Остатки линз 1.56"],
        [],
        [None, "SPH\\CYL", "0,00", -0.25, "-0.5", "Итого"],
        [None, 1.0, 2, None, "-", 2],
        [None, "+0,75", "нет", 4, 1, 5],
        [None, "Итого", 2, 4, 1, 7],
    ]
    run = engine.ImportRun(
        xlsx_bytes(sheet), engine.Profile.from_dict(prof or GRID_PROFILE), grid_check=optical_grids(), **kw
    )
    return run, [r for c in run for r in c.rows]


def test_a_lens_grid_expands_to_one_row_per_cell():
    run, rows = grid_rows()
    assert run.header_row == 3 and run.report_columns == ("Sph", "Cyl", "Количество") and run.report_with_cell
    got = [
        (r.source_cell, r.key, r.values["sph"], r.values["cyl"], r.values["qty"], r.values["price"])
        for r in rows
    ]
    assert got == [
        ("C4", "L-156/+1.00/+0.00", D("1.00"), D("0.00"), 2, D("1480.00")),
        ("D4", "L-156/+1.00/-0.25", D("1.00"), D("-0.25"), 0, D("1480.00")),
        ("E4", "L-156/+1.00/-0.50", D("1.00"), D("-0.50"), 0, D("1480.00")),
        ("C5", "L-156/+0.75/+0.00", D("0.75"), D("0.00"), 0, D("1480.00")),
        ("D5", "L-156/+0.75/-0.25", D("0.75"), D("-0.25"), 4, D("1480.00")),
        ("E5", "L-156/+0.75/-0.50", D("0.75"), D("-0.50"), 1, D("1480.00")),
    ]
    assert all(r.values["name"] == "Линза 1.56" and r.status == "new" for r in rows)
    assert run.counters.skipped == 1  # the totals row


def test_grid_cells_holding_prices_and_a_bad_cyl_column():
    prof = {
        **GRID_PROFILE,
        "grid": {"sku": "L", "cells": "price", "sku_format": "{sku} {sph:+.2f}{cyl:+.2f}"},
    }
    sheet = [
        ["Sph", -0.25, "-0,30", "-0.50"],
        [-1, "1 200,00", "1 300", None],
        [-1.25, 0, "1 300", "1\u00a0350,5"],
    ]
    run, rows = grid_rows(prof, sheet, prices={"L -1.00-0.25": D(999)})
    assert run.report_columns == ("Sph", "Cyl", "Цена")
    got = [(r.source_cell, r.key, r.status, r.values.get("price"), r.reasons_text()) for r in rows]
    assert got == [
        ("B2", "L -1.00-0.25", "held", D("1200.00"), ""),
        ("C2", None, "rejected", D("1300.00"), "Цилиндр (Cyl): \u22120,30 не кратно шагу 0,25 дптр"),
        ("B3", "L -1.25-0.25", "rejected", D("0.00"), "Цена должна быть больше нуля, указано 0,00"),
        ("C3", None, "rejected", D("1300.00"), "Цилиндр (Cyl): \u22120,30 не кратно шагу 0,25 дптр"),
        ("D3", "L -1.25-0.50", "new", D("1350.50"), ""),
    ]  # D2 (empty price) is not offered: no row


def test_grid_refusals():
    with pytest.raises(engine.ImportFileError, match="нет ячейки, начинающейся с «Sph»"):
        grid_rows(rows=[["Cyl", 0, -0.25], [1, 1, 1]])
    with pytest.raises(engine.ImportFileError, match="нет значений цилиндра"):
        grid_rows(rows=[["Sph"], [1, 1, 1]])
    with pytest.raises(ValueError, match="grid_check"):
        engine.ImportRun(xlsx_bytes([["Sph", 0]]), engine.Profile.from_dict(GRID_PROFILE))


# -- chunks and resume -------------------------------------------------------------------------------------


def numbered(count: int, duplicate_at: int | None = None) -> bytes:
    rows = [HEADER] + [[f"A{i}", f"Оправа {i}", f"{100 + i},50", "шт", ""] for i in range(count)]
    if duplicate_at is not None:
        rows[duplicate_at + 1][0] = "A0"
    return csv_bytes(rows)


def test_chunks_carry_their_index_and_source_rows():
    run = engine.ImportRun(numbered(2500), profile(chunk_size=1000))
    chunks = list(run)
    assert [(c.index, len(c.rows), c.first_row, c.last_row) for c in chunks] == [
        (0, 1000, 2, 1001), (1, 1000, 1002, 2001), (2, 500, 2002, 2501)
    ]  # fmt: skip
    assert run.counters.as_dict() == {
        "rows": 2500, "skipped": 0, "chunks": 3, "resumed_chunks": 0, "resumed_rows": 0, "accepted": 2500,
        "new": 2500, "changed_up": 0, "changed_down": 0, "unchanged": 0, "held": 0, "rejected": 0,
    }  # fmt: skip
    with pytest.raises(RuntimeError, match="iterated once"):
        iter(run)


def test_a_resumed_run_skips_committed_chunks_but_still_sees_duplicates_across_them():
    first = [c for c in engine.ImportRun(numbered(2500, duplicate_at=2400), profile(), chunk_size=1000)]
    resumed = list(
        engine.ImportRun(numbered(2500, duplicate_at=2400), profile(), chunk_size=1000, start_chunk=2)
    )
    assert [c.index for c in resumed] == [2]
    assert resumed[0].rows == first[2].rows
    dup = resumed[0].rows[400]
    assert dup.source_row == 2402 and dup.reasons[0].message.endswith("уже есть в строке 2")
    run = engine.ImportRun(
        numbered(2500), profile(), chunk_size=1000, start_chunk=2, prices=lambda keys: 1 / 0
    )
    with pytest.raises(ZeroDivisionError):  # the lookup runs for the chunks yielded only
        list(run)
    run = engine.ImportRun(numbered(2500), profile(), chunk_size=1000, start_chunk=3)
    assert list(run) == [] and run.counters.resumed_rows == 2500 and run.counters.resumed_chunks == 3


def test_chunk_size_default_and_argument_checks():
    assert [len(c.rows) for c in engine.ImportRun(numbered(1001), profile())] == [1000, 1]
    with pytest.raises(ValueError):
        engine.ImportRun(numbered(1), profile(), chunk_size=0)
    with pytest.raises(ValueError):
        engine.ImportRun(numbered(1), profile(), start_chunk=-1)


def test_the_file_is_closed_after_the_run(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(numbered(10))
    run = engine.ImportRun(path, profile())
    list(run)
    assert run._table._stream.closed
    with engine.ImportRun(path, profile()) as run:
        next(iter(run))
    assert run._table._stream.closed


def test_describe_tells_how_the_file_was_read():
    assert engine.ImportRun(numbered(1), profile()).describe() == (
        "CSV, Windows-1251, разделитель точка с запятой, заголовок в строке 1"
    )


# -- the rejected-rows report ------------------------------------------------------------------------------


def rejected_sample():
    data = csv_bytes([HEADER, ["A1", "=HYPERLINK(\"x\")", "0", "шт", ""], ["A2", "ok", "5", "шт", ""],
                      ["A3", "@cmd", "-1,5", "кор", "123"]])  # fmt: skip
    run = engine.ImportRun(data, profile())
    return run, [r for c in run for r in c.rows if r.rejected]


def test_csv_report_for_excel():
    run, rejected = rejected_sample()
    out = io.BytesIO()
    assert engine.write_rejected_csv(out, rejected, run.report_columns) == 2
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert lines[0] == ["Строка", "Артикул", "Наименование", "Цена", "Ед.", "Штрихкод", "Причины"]
    assert lines[1] == [
        "2",
        "A1",
        '\'=HYPERLINK("x")',
        "0",
        "шт",
        "",
        "Цена должна быть больше нуля, указано 0,00",
    ]
    assert lines[2][:6] == ["4", "A3", "'@cmd", "-1,5", "кор", "123"]  # a negative number stays a number
    assert lines[2][6].count("; ") == 2


def test_xlsx_report_read_back(tmp_path):
    run, rejected = rejected_sample()
    path = tmp_path / "rejected.xlsx"
    assert engine.write_rejected_xlsx(path, rejected, run.report_columns) == 2
    sheet = load_workbook(path).active
    assert sheet.title == "Отклонённые строки"
    got = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert got[0] == ["Строка", "Артикул", "Наименование", "Цена", "Ед.", "Штрихкод", "Причины"]
    assert got[1][:3] == [2, "A1", '=HYPERLINK("x")']  # text, not a formula
    assert sheet["C2"].data_type == "s"
    assert got[2][-1] == rejected[1].reasons_text()


def test_grid_report_has_the_cell_column(tmp_path):
    run, rows = grid_rows(rows=[["Sph", 0, -0.25], [1, 2, "пять"]])
    rejected = [r for r in rows if r.rejected]
    out = io.BytesIO()
    engine.write_rejected_xlsx(out, rejected, run.report_columns, with_cell=run.report_with_cell)
    got = [list(r) for r in load_workbook(io.BytesIO(out.getvalue())).active.iter_rows(values_only=True)]
    assert got == [
        ["Строка", "Ячейка", "Sph", "Cyl", "Количество", "Причины"],
        [2, "C2", 1, -0.25, "пять", "Остаток: «пять» — не число"],
    ]
    text = io.BytesIO()
    engine.write_rejected_csv(text, rejected, run.report_columns, with_cell=True)
    assert (
        text.getvalue().decode("utf-8-sig").splitlines()[1] == "2;C2;1;-0.25;пять;Остаток: «пять» — не число"
    )
