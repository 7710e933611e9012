"""Opening a price-list source (path, bytes or binary file) and telling its format from its first bytes.

The format comes from the content, never the file name (suppliers rename an xlsx to ``.csv`` and back):
``PK`` → xlsx, the OLE2 signature → an old ``.xls`` (refused with advice), PDF → refused, anything else is
read as text and checked for binary garbage by the CSV reader.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from typing import BinaryIO

from .errors import ImportFileError

#: What the engine accepts as a source: a path, the file's bytes or an open binary file.
Source = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO

XLSX, CSV = "xlsx", "csv"
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PDF = b"%PDF"
#: A non-seekable upload is copied to a temporary file (in memory up to this size) so it can be read twice.
_SPOOL_BYTES = 8 * 1024 * 1024


def open_binary(source: Source) -> tuple[BinaryIO, bool]:
    """(a seekable binary stream at offset 0, whether the caller must close it)."""
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source)), True
    if isinstance(source, str | os.PathLike):
        try:
            return open(source, "rb"), True
        except FileNotFoundError as err:
            raise ImportFileError("no_file", f"Файл не найден: {os.fspath(source)}") from err
        except IsADirectoryError as err:
            raise ImportFileError("no_file", f"Это каталог, а не файл: {os.fspath(source)}") from err
    if not hasattr(source, "read"):
        raise TypeError(f"a path, bytes or a binary file is expected, not {type(source).__name__}")
    if source.seekable():
        source.seek(0)
        return source, False
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - returned to the caller
    shutil.copyfileobj(source, spool)
    spool.seek(0)
    return spool, True  # type: ignore[return-value]


def detect_format(stream: BinaryIO) -> str:
    """``xlsx`` or ``csv`` from the first bytes; ``ImportFileError`` for an empty file or a non-table."""
    head = stream.read(8)
    stream.seek(0)
    if not head:
        raise ImportFileError("empty_file", "Файл пуст: в нём нет ни одного байта")
    if head.startswith(_ZIP):
        return XLSX
    if head.startswith(_OLE2):
        raise ImportFileError(
            "xls_unsupported",
            "Формат .xls (Excel 97–2003) не поддерживается: откройте файл в Excel и сохраните как .xlsx "
            "или CSV",
        )
    if head.startswith(_PDF):
        raise ImportFileError("binary_file", "Это PDF, а не таблица: нужен прайс-лист в .xlsx или CSV")
    return CSV
