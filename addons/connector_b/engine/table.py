"""One door to a price list's rows whatever its format: ``open_table`` → an xlsx or CSV table.

A table yields ``(row number, cells)`` one row at a time, tells how it read the file (``describe``) and is
closed by its owner (``with open_table(...) as table``), the file handle with it.
"""

from __future__ import annotations

from collections.abc import Iterator

from .csv_reader import CsvTable
from .source import XLSX, Source, detect_format, open_binary
from .xlsx_reader import XlsxTable


class Table:
    """An opened price list: ``rows()`` streams it; ``format``, ``sheet``, ``encoding``, ``delimiter``."""

    def __init__(self, source: Source, *, sheet=None, encoding=None, delimiter=None):
        self._stream, self._owned = open_binary(source)
        try:
            self.format = detect_format(self._stream)
            if self.format == XLSX:
                self._reader = XlsxTable(self._stream, sheet=sheet)
            else:
                self._reader = CsvTable(self._stream, encoding=encoding, delimiter=delimiter)
        except BaseException:
            self._close_stream()
            raise
        self.sheet = self._reader.sheet
        self.encoding = self._reader.encoding
        self.delimiter = self._reader.delimiter

    def describe(self) -> str:
        return self._reader.describe()

    def rows(self) -> Iterator[tuple[int, tuple]]:
        return self._reader.rows()

    def _close_stream(self) -> None:
        if self._owned:
            self._stream.close()

    def close(self) -> None:
        if isinstance(self._reader, XlsxTable):
            self._reader.close()
        self._close_stream()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_table(source: Source, *, sheet=None, encoding=None, delimiter=None) -> Table:
    """Open ``source`` (path, bytes or binary file): xlsx by content, else CSV (encoding, delimiter detected).

    ``sheet`` (xlsx; default the first), ``encoding``/``delimiter`` (CSV; default detected) come from the
    profile. Raises ``ImportFileError`` for an empty, binary, damaged or unreadable file or a missing sheet.
    """
    return Table(source, sheet=sheet, encoding=encoding, delimiter=delimiter)
