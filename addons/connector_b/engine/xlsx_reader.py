"""xlsx price lists read row by row through openpyxl's read-only streaming mode (never a whole sheet).

``load_workbook(read_only=True, data_only=True)``: cells come as typed values (a formula as its cached
value), rows one at a time from the sheet's XML. The sheet's stored dimensions are ignored
(``reset_dimensions``): some generators write ``A1`` there and openpyxl would then read one row only.
Any failure of the parser on a foreign or damaged file becomes an ``ImportFileError`` with a Russian text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from openpyxl import load_workbook

from .errors import ImportFileError

_BAD_BOOK = "Файл повреждён или не является книгой Excel (.xlsx): откройте его в Excel и сохраните заново"


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


class XlsxTable:
    """Rows of one worksheet as ``(row number, cells)``, numbered as Excel shows them."""

    format = "xlsx"
    encoding = None
    delimiter = None

    def __init__(self, stream: BinaryIO, *, sheet: str | None = None):
        try:
            self._book = load_workbook(stream, read_only=True, data_only=True)
        # openpyxl raises whatever its zip/XML layers raise on a damaged or foreign file (BadZipFile,
        # KeyError for a missing part, ParseError, ValueError, TypeError…): for the user it is one case.
        except Exception as err:
            raise ImportFileError("bad_xlsx", _BAD_BOOK) from err
        names = self._book.sheetnames
        if sheet is None:
            worksheets = self._book.worksheets
            if not worksheets:
                self.close()
                raise ImportFileError("bad_xlsx", "В книге нет ни одного листа с таблицей")
            self._sheet = worksheets[0]
        else:
            found = [n for n in names if n == sheet] or [n for n in names if _key(n) == _key(sheet)]
            if not found:
                self.close()
                listed = ", ".join(f"«{n}»" for n in names)
                raise ImportFileError("unknown_sheet", f"В книге нет листа «{sheet}». Листы книги: {listed}")
            self._sheet = self._book[found[0]]
        if not hasattr(self._sheet, "reset_dimensions"):  # a chart sheet has no cells
            self.close()
            raise ImportFileError("unknown_sheet", f"Лист «{self._sheet.title}» — диаграмма, а не таблица")
        self.sheet = self._sheet.title

    def describe(self) -> str:
        return f"Excel (.xlsx), лист «{self.sheet}»"

    def rows(self) -> Iterator[tuple[int, tuple]]:
        self._sheet.reset_dimensions()
        number = 0
        try:
            for number, row in enumerate(self._sheet.iter_rows(values_only=True), 1):
                yield number, row
        except Exception as err:
            raise ImportFileError(
                "bad_xlsx", f"Лист «{self.sheet}» повреждён: не удалось прочитать строку {number + 1}"
            ) from err

    def close(self) -> None:
        self._book.close()
