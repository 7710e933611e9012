"""connector_b's sample price lists: up to date with their generator, and read by their profiles as expected.

The three committed samples (``addons/connector_b/data/samples``) are regenerated into a temp folder by
``tests/kit/supplier_samples.py`` and compared (CSV byte for byte, xlsx cell for cell). Each sample goes
through its built-in profile: exactly the deliberately bad rows are rejected, with the expected reasons.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.kit import supplier_samples
from tests.kit.connector_engine import ENGINE_DIR, SAMPLES_DIR, engine, optical_grids, profile

builtin = engine.profiles_builtin


def cells(path) -> dict[str, list[tuple]]:
    book = load_workbook(path, read_only=True)
    try:
        return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}
    finally:
        book.close()


def test_committed_samples_are_what_the_generator_writes(tmp_path):
    for written in supplier_samples.write_samples(tmp_path):
        committed = SAMPLES_DIR / written.name
        assert committed.is_file(), f"run: python -m tests.kit.supplier_samples {SAMPLES_DIR}"
        if written.suffix == ".csv":
            assert committed.read_bytes() == written.read_bytes(), written.name
        else:
            assert cells(committed) == cells(written), written.name


def test_every_builtin_profile_has_its_sample():
    assert set(builtin.SAMPLES) == set(builtin.BUILTIN_PROFILES) == set(supplier_samples.EXPECTED_REJECTED)
    for relative in builtin.SAMPLES.values():
        assert (ENGINE_DIR.parent / relative).is_file()


def run_sample(code: str):
    run = engine.ImportRun(
        ENGINE_DIR.parent / builtin.SAMPLES[code], profile(code), grid_check=optical_grids()
    )
    return run, [row for chunk in run for row in chunk.rows]


@pytest.mark.parametrize("code", sorted(supplier_samples.EXPECTED_REJECTED))
def test_samples_reject_exactly_their_bad_rows(code):
    _run, rows = run_sample(code)
    position = (lambda r: r.source_cell) if code == "linzmaster_stock_156" else (lambda r: r.source_row)
    rejected = {position(r): {reason.code for reason in r.reasons} for r in rows if r.rejected}
    assert rejected == supplier_samples.EXPECTED_REJECTED[code]
    accepted = [r for r in rows if not r.rejected]
    assert accepted and all(r.status == engine.NEW and r.key for r in accepted)
    assert all(r.values["price"] > 0 for r in accepted)


def test_frames_sample_is_cp1251_semicolon_with_nbsp_and_decimal_commas():
    data = (SAMPLES_DIR / "optima_frames.csv").read_bytes()
    assert b"\xa0" in data and not data.startswith(b"\xef\xbb\xbf")
    run, rows = run_sample("optima_frames")
    assert run.describe() == "CSV, Windows-1251, разделитель точка с запятой, заголовок в строке 3"
    assert run.counters.skipped == 3  # the section titles
    by_sku = {r.key: r for r in rows if not r.rejected}
    assert str(by_sku["ОП-М-1004"].values["price"]) == "6890.50"
    assert str(by_sku["ОП-П-2004"].values["price"]) == "12400.00"
    # Retail: frames +150 %, sunglasses +120 %, up to …90 or …99 roubles.
    assert str(by_sku["ОП-М-1004"].values["retail_price"]) == "17290.00"  # 17 226,25 → 17 290
    assert str(by_sku["СЗ-3003"].values["retail_price"]) == "2190.00"  # 2 178,00 → 2 190


def test_contacts_sample_is_utf8_bom_comma_matched_by_barcode():
    run, rows = run_sample("aquaview_contacts")
    assert run.describe() == "CSV, UTF-8 с BOM, разделитель запятая, заголовок в строке 1"
    first = rows[0]
    assert first.key == first.values["barcode"] == "8765432100002"
    assert (str(first.values["bc"]), str(first.values["dia"]), str(first.values["sph"])) == (
        "8.60",
        "14.2",
        "-1.00",
    )
    assert first.values["unit"] == "pack"
    assert str(rows[6].values["price"]) == "1890.00"  # "1 890,00", quoted in a comma-separated file


def test_lenses_price_sheet_reads_numbers_and_text_with_nbsp():
    run, rows = run_sample("linzmaster_price")
    assert run.describe() == "Excel (.xlsx), лист «Прайс», заголовок в строке 4"
    prices = {r.key: str(r.values["price"]) for r in rows if not r.rejected}
    assert prices["ЛМ-156-BB"] == "2480.00"  # "2 480,00" with NBSP
    assert prices["ЛМ-160-PH"] == "4920.00"  # narrow NBSP
    assert prices["ЛМ-160-AR"] == "3150.50"  # a number cell
    assert {r.values["unit"] for r in rows if not r.rejected} == {"unit", "pair"}


def test_lens_grid_sample_expands_to_its_cells():
    run, rows = run_sample("linzmaster_stock_156")
    assert run.report_columns == ("Sph", "Cyl", "Количество")
    assert len(rows) == 19 * 7  # 17 good Sph rows + 2 bad ones, 7 Cyl columns; the totals left out
    cell = next(r for r in rows if r.source_cell == "E4")
    assert cell.key == "ЛМ-156-AR/+2.00/-0.75" and str(cell.values["price"]) == "1480.00"


def test_reports_of_the_samples_list_every_rejected_row():
    for code in builtin.SAMPLES:
        run, rows = run_sample(code)
        rejected = [r for r in rows if r.rejected]
        out = io.BytesIO()
        written = engine.write_rejected_xlsx(
            out, rejected, run.report_columns, with_cell=run.report_with_cell
        )
        sheet = load_workbook(io.BytesIO(out.getvalue()), read_only=True).active
        lines = list(sheet.iter_rows(values_only=True))
        assert written == len(rejected) == len(lines) - 1
        assert [line[0] for line in lines[1:]] == [r.source_row for r in rejected]
        assert all(line[-1] for line in lines[1:])
