"""The rejected-rows report, as xlsx (openpyxl write-only, streamed) or CSV (UTF-8 with BOM, ``;``).

Columns: «Строка» (the file's row number), «Ячейка» for lens grids, the original values of the mapped
columns under the file's own header names, «Причины» (every reason, joined by «; »). Rows are written as
they come (an iterator of rejected rows: nothing is held in memory). Text that a spreadsheet would run as
a formula (``=…``, ``+…``, ``@…``, ``-…`` that is not a number) is written as plain text.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import BinaryIO, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?[0-9\s\u00a0\u202f.,]+$")
ROW_HEADER, CELL_HEADER, REASONS_HEADER = "Строка", "Ячейка", "Причины"


class RejectedRow(Protocol):
    """What a report row needs (``pipeline.ImportRow`` or the addon's stored log line)."""

    source_row: int
    source_cell: str | None
    raw: tuple
    reasons: Sequence  # each with .message


def header(columns: Sequence[str], *, with_cell: bool = False) -> list[str]:
    return [ROW_HEADER, *([CELL_HEADER] if with_cell else []), *columns, REASONS_HEADER]


def _line(row: RejectedRow, with_cell: bool) -> list:
    reasons = "; ".join(r.message for r in row.reasons)
    return [row.source_row, *([row.source_cell] if with_cell else []), *row.raw, reasons]


def _safe_text(value: str) -> str:
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        value = int(value) if value.is_integer() else value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return _safe_text(str(value))


def write_rejected_csv(
    target: str | os.PathLike | BinaryIO,
    rows: Iterable[RejectedRow],
    columns: Sequence[str],
    *,
    with_cell=False,
) -> int:
    """Write the report as CSV for Excel (UTF-8 with BOM, ``;``, CRLF); returns the number of rows written."""
    own = isinstance(target, str | os.PathLike)
    binary = open(target, "wb") if own else target  # noqa: SIM115 - closed below when opened here
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    count = 0
    try:
        writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
        writer.writerow(header(columns, with_cell=with_cell))
        for row in rows:
            writer.writerow([_csv_value(v) for v in _line(row, with_cell)])
            count += 1
        text.flush()
    finally:
        text.detach()
        if own:
            binary.close()
    return count


def _xlsx_cell(sheet, value) -> WriteOnlyCell:
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=None)
        cell.value = value
        cell.data_type = "s"  # never a formula, whatever the text starts with
        return cell
    if isinstance(value, Decimal | int | float | datetime | date | time) and not isinstance(value, bool):
        return WriteOnlyCell(sheet, value=value)
    return WriteOnlyCell(sheet, value=None if value is None else str(value))


def write_rejected_xlsx(
    target: str | os.PathLike | BinaryIO,
    rows: Iterable[RejectedRow],
    columns: Sequence[str],
    *,
    with_cell=False,
) -> int:
    """Write the report as an xlsx workbook (one sheet «Отклонённые строки»); returns the rows written."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Отклонённые строки")
    titles = header(columns, with_cell=with_cell)
    sheet.freeze_panes = "A2"
    widths = [8, *([8] if with_cell else []), *(max(12, min(40, len(c) + 4)) for c in columns), 80]
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    heading = []
    for title in titles:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        heading.append(cell)
    sheet.append(heading)
    wrap = Alignment(wrap_text=True, vertical="top")
    count = 0
    for row in rows:
        cells = [_xlsx_cell(sheet, v) for v in _line(row, with_cell)]
        cells[-1].alignment = wrap
        sheet.append(cells)
        count += 1
    book.save(target)
    return count
