"""connector_b import engine: reading xlsx and CSV row by row, and refusing what is not a price list.

CSV in UTF-8 (with and without BOM), cp1251 and UTF-16; delimiters ``;`` (also over decimal commas, where
``csv.Sniffer`` alone picks ``,``), ``,`` and tab; xlsx through openpyxl's read-only mode, by sheet name,
with row gaps and a wrong stored dimension. Bad input — empty, binary garbage, .xls, PDF, a damaged zip,
an unknown encoding, a wrong sheet, no header, an unknown column — is one ``ImportFileError`` with a stable
code and a Russian message, never another exception (a property test throws arbitrary bytes at it).
"""

from __future__ import annotations

import csv
import io
import random
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from tests.kit.connector_engine import engine

ImportFileError = engine.ImportFileError
csv_reader = engine.csv_reader

ROWS = [
    ["Артикул", "Наименование", "Цена, руб.", "Ед."],
    ["ОП-1", "Оправа «Вега», металл", "1\u00a0234,50", "шт"],
    ["ОП-2", "Оправа детская", "990,00", "шт"],
    ["ЛН-3", "Линза 1.56", "12\u00a0400", "пара"],
]
PROFILE = engine.Profile.from_dict(
    {
        "code": "t",
        "name": "Тест",
        "columns": {"supplier_sku": "Артикул", "name": "Наименование", "price": "Цена, руб.", "unit": "Ед."},
    }
)


def csv_bytes(rows, *, encoding="utf-8", delimiter=";") -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode(encoding)


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_all(source, **kw) -> list[tuple[int, tuple]]:
    with engine.open_table(source, **kw) as table:
        return list(table.rows())


def texts(rows) -> list[list]:
    return [list(cells) for _, cells in rows]


# -- CSV ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1251", "cp1251"), ("utf-16", "utf-16")],
)
def test_csv_encodings_are_detected(encoding, detected):
    data = csv_bytes(ROWS, encoding=encoding)
    with engine.open_table(data) as table:
        assert (table.format, table.encoding, table.delimiter) == ("csv", detected, ";")
        assert texts(table.rows()) == ROWS


def test_cp1251_nbsp_byte_a0_is_read_not_crashed():
    """Byte 0xA0 (NBSP in cp1251) crashed Odoo's own import (odoo/odoo PR #215184)."""
    data = csv_bytes(ROWS, encoding="cp1251")
    assert b"\xa0" in data
    run = engine.ImportRun(data, PROFILE)
    prices = [row.values["price"] for chunk in run for row in chunk.rows]
    assert [str(p) for p in prices] == ["1234.50", "990.00", "12400.00"]


def test_a_late_cp1251_byte_past_the_sample_still_decides_the_encoding():
    rows = [["SKU", "Name", "Price", "Unit"]] + [[f"A{i}", "Frame", "100", "pcs"] for i in range(6000)]
    rows[-1][1] = "Оправа"  # the only non-ASCII text, past the first 64 KiB
    data = csv_bytes(rows, encoding="cp1251")
    assert len(data) > csv_reader.SAMPLE_BYTES + 50_000
    with engine.open_table(data) as table:
        assert table.encoding == "cp1251"
        assert list(table.rows())[-1][1][1] == "Оправа"


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_delimiters_are_detected(delimiter):
    data = csv_bytes(ROWS, delimiter=delimiter)
    with engine.open_table(data) as table:
        assert table.delimiter == delimiter
        assert texts(table.rows()) == ROWS


def test_semicolon_over_decimal_commas_where_the_sniffer_alone_picks_comma():
    sample = "Артикул;Наименование;Цена опт., руб.;Ед.\r\nA1;Оправа;1 234,50;шт\r\nA2;Оправа 2;990,00;шт\r\n"
    assert (
        csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter == ","
    )  # why the engine does not rely on it
    assert csv_reader.detect_delimiter(sample) == ";"


def test_letterhead_lines_and_quoted_newlines_keep_excel_row_numbers():
    rows = [["Прайс-лист ООО «Оптима»"], [], ROWS[0], ["ОП-1", "Оправа\nс переносом", "100", "шт"], ROWS[2]]
    numbered = read_all(csv_bytes(rows))
    assert [n for n, _ in numbered] == [1, 2, 3, 4, 5]
    assert numbered[3][1][1] == "Оправа\nс переносом"
    assert numbered[1][1] == ()


def test_a_profile_may_force_the_encoding_and_delimiter():
    data = csv_bytes(ROWS, encoding="cp1251", delimiter="\t")
    with engine.open_table(data, encoding="cp1251", delimiter="\t") as table:
        assert texts(table.rows()) == ROWS
    with pytest.raises(ImportFileError) as caught:
        read_all(csv_bytes(ROWS, encoding="cp1251"), encoding="utf-8")
    assert caught.value.code == "encoding"


def test_a_byte_neither_utf8_nor_cp1251_past_the_sample_is_refused_with_its_position():
    data = csv_bytes([["Артикул", "Цена"]] + [[f"A{i}", "100"] for i in range(9000)]) + b"X;\x98\r\n"
    with pytest.raises(ImportFileError) as caught:
        read_all(data)
    assert caught.value.code == "encoding"
    assert f"байт 0x98 в позиции {len(data) - 3}" in caught.value.message
    assert "Windows-1251" in caught.value.message


def test_sources_path_bytes_seekable_and_unseekable(tmp_path):
    data = csv_bytes(ROWS, encoding="cp1251")
    path = tmp_path / "price.csv"
    path.write_bytes(data)

    class Pipe(io.RawIOBase):  # a stream that cannot seek (an upload read from a socket)
        def __init__(self):
            self._data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    for source in (path, str(path), data, bytearray(data), io.BytesIO(data), io.BufferedReader(Pipe())):
        assert texts(read_all(source)) == ROWS
    with pytest.raises(ImportFileError) as caught:
        read_all(tmp_path / "missing.csv")
    assert caught.value.code == "no_file"
    with pytest.raises(TypeError):
        read_all(12345)


# -- xlsx --------------------------------------------------------------------------------------------------


def test_xlsx_streams_through_read_only_mode_by_sheet_name():
    data = xlsx_bytes({"Обложка": [["Прайс"]], "Прайс": [*ROWS, [None], ["ОП-9", "Оправа", 1500.5, "шт"]]})
    with engine.open_table(data, sheet=" прайс ") as table:
        assert table._reader._book.read_only  # openpyxl's streaming reader, never a loaded sheet
        assert (table.format, table.sheet, table.encoding) == ("xlsx", "Прайс", None)
        rows = list(table.rows())
    assert [n for n, _ in rows] == [1, 2, 3, 4, 5, 6]
    assert list(rows[1][1]) == ROWS[1]
    assert rows[4][1] == ()  # the empty row keeps its number
    assert rows[5][1][2] == 1500.5
    assert read_all(data)[0][1] == ("Прайс",)  # no sheet named: the first one


def test_xlsx_with_a_wrong_stored_dimension_is_read_whole(tmp_path):
    path = tmp_path / "dim.xlsx"
    book = Workbook()
    for row in ROWS:
        book.active.append(row)
    book.save(path)
    broken = tmp_path / "dim-a1.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b'<dimension ref="A1:D4"', b'<dimension ref="A1"')
                assert b'ref="A1"' in content
            dst.writestr(item, content)
    assert load_workbook(broken, read_only=True).active.max_row == 1  # what openpyxl alone would read
    assert texts(read_all(broken)) == ROWS


def test_decimal_comma_in_xlsx_text_cells():
    data = xlsx_bytes(
        {"Прайс": [ROWS[0], ["A1", "Оправа", "1\u202f234,50", "шт"], ["A2", "Линза", 990, "шт"]]}
    )
    rows = [row for chunk in engine.ImportRun(data, PROFILE) for row in chunk.rows]
    assert [str(r.values["price"]) for r in rows] == ["1234.50", "990.00"]


# -- refusals ----------------------------------------------------------------------------------------------


def damaged_zip() -> bytes:
    data = xlsx_bytes({"Прайс": ROWS})
    return data[: len(data) // 2]


def zip_without_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return out.getvalue()


def garbage(seed: int, size: int = 4096) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"", "empty_file", "пуст"),
        (b"\r\n \r\n;;;\r\n", "empty_file", "нет ни одной строки"),
        (garbage(1), "binary_file", "двоичные"),
        (b"abc\x00def;ghi\n" * 10, "binary_file", "двоичные"),
        ("Артикул;Цена\n".encode() + bytes(range(1, 9)) * 40, "binary_file", "двоичные"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + garbage(2), "xls_unsupported", ".xls"),
        (b"%PDF-1.7\n" + garbage(3), "binary_file", "PDF"),
        (b"PK\x03\x04" + garbage(4), "bad_xlsx", "повреждён"),
        (damaged_zip(), "bad_xlsx", "повреждён"),
        (zip_without_workbook(), "bad_xlsx", "повреждён"),
        ("Артикул;Цена\n".encode() + b"\x98\x98;1\n", "encoding", "UTF-8"),
        (xlsx_bytes({"Прайс": []}), "empty_file", "нет ни одной строки"),
        (xlsx_bytes({"Прайс": [["Прайс-лист"], ["без таблицы"]]}), "header_not_found", "«Артикул»"),
        (csv_bytes([["SKU", "Name", "Price"], ["1", "x", "2"]]), "header_not_found", "строка заголовка"),
        (csv_bytes([["Артикул", "Наименование", "Цена"], ["1", "x", "2"]]), "column_not_found", "«Ед.»"),
    ],
)
def test_bad_input_is_one_clear_error(data, code, words):
    with pytest.raises(ImportFileError) as caught:
        list(engine.ImportRun(data, PROFILE))
    assert caught.value.code == code
    assert words in caught.value.message
    assert any("а" <= ch <= "я" for ch in caught.value.message.lower())  # Russian, for the manager


def test_wrong_sheet_names_the_sheets_there_are():
    profile = engine.Profile.from_dict({**PROFILE.to_dict(), "sheet": "Прайс 2027"})
    with pytest.raises(ImportFileError) as caught:
        engine.ImportRun(xlsx_bytes({"Прайс": ROWS, "Наличие": [["Sph"]]}), profile)
    assert caught.value.code == "unknown_sheet"
    assert caught.value.message == "В книге нет листа «Прайс 2027». Листы книги: «Прайс», «Наличие»"


def test_unknown_column_names_what_is_missing_and_what_is_there():
    profile = engine.Profile.from_dict(
        {**PROFILE.to_dict(), "columns": {**PROFILE.to_dict()["columns"], "barcode": "EAN-13"}}
    )
    with pytest.raises(ImportFileError) as caught:
        engine.ImportRun(csv_bytes(ROWS), profile)
    assert caught.value.code == "column_not_found"
    assert caught.value.message.startswith(
        "Файл: в строке заголовка 1 нет столбцов «EAN-13». Столбцы в файле:"
    )
    assert "«Цена, руб.»" in caught.value.message


def test_a_header_past_the_scanned_rows_is_found_when_the_profile_names_its_row():
    rows = [["шапка"]] * 40 + ROWS
    with pytest.raises(ImportFileError) as caught:
        engine.ImportRun(csv_bytes(rows), PROFILE)
    assert "в первых 30 строках" in caught.value.message
    profile = engine.Profile.from_dict({**PROFILE.to_dict(), "header_row": 41})
    run = engine.ImportRun(csv_bytes(rows), profile)
    assert run.header_row == 41 and [r.source_row for c in run for r in c.rows] == [42, 43, 44]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=3000), st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b)))
def test_arbitrary_bytes_never_raise_anything_but_an_import_error(data):
    try:
        for chunk in engine.ImportRun(data, PROFILE):
            assert all(row.status in engine.STATUSES for row in chunk.rows)
    except ImportFileError as err:
        assert err.code and err.message


def test_errors_carry_no_traceback_text():
    for data in (garbage(5), damaged_zip(), b""):
        with pytest.raises(ImportFileError) as caught:
            engine.ImportRun(data, PROFILE)
        assert "Traceback" not in str(caught.value) and "Error" not in str(caught.value)
