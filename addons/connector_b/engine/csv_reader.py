"""CSV price lists read row by row: encoding (UTF-8 with or without BOM, cp1251) and delimiter detection.

Encoding: a BOM decides (UTF-8, or UTF-16 from Excel's «Unicode text»); otherwise the whole file is decoded
as strict UTF-8 in 1 MiB blocks (memory stays flat), then as strict cp1251 — no guessing library is needed:
cp1251 text is almost never valid UTF-8, and what is neither is refused. Delimiter: ``;``, ``,`` or tab,
chosen by how consistently each splits the first 64 KiB into the same number of columns (more columns
win a tie); ``csv.Sniffer`` only breaks a remaining tie: on its own it picks ``,`` in a ``;`` file whose
every line has one comma (a «Цена, руб.» header over decimal commas), as both split consistently.
Cells come out as text, an empty cell as None (as openpyxl gives it).
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections import Counter
from collections.abc import Iterator
from typing import BinaryIO

from .errors import ImportFileError

DELIMITERS = (";", ",", "\t")
#: Bytes of the file the delimiter and the binary-garbage checks look at.
SAMPLE_BYTES = 64 * 1024
_BLOCK = 1024 * 1024
#: Share of control characters (other than tab and line ends) that marks a file as binary, not text.
_CONTROL_SHARE = 0.01
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
DELIMITER_NAMES = {";": "точка с запятой", ",": "запятая", "\t": "табуляция"}
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 с BOM", "utf-16": "UTF-16", "cp1251": "Windows-1251"}
NOT_A_TABLE = (
    "Файл не похож на таблицу (двоичные данные): нужен прайс-лист в .xlsx или CSV (текст, разделённый "
    "точкой с запятой, запятой или табуляцией)"
)


def _first_undecodable(stream: BinaryIO, encoding: str) -> tuple[int, int] | None:
    """Decode the whole stream strictly in blocks: (offset, byte) of the first bad byte, or None."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    stream.seek(0)
    offset = 0
    try:
        while block := stream.read(_BLOCK):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as err:
                return offset + err.start, err.object[err.start]
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as err:  # a sequence cut by the end of the file
            return offset - len(err.object) + err.start, err.object[err.start]
    finally:
        stream.seek(0)
    return None


def detect_encoding(stream: BinaryIO) -> str:
    """The file's text encoding: ``utf-8-sig``/``utf-16`` by BOM, else ``utf-8`` or ``cp1251`` (strict)."""
    head = stream.read(4)
    stream.seek(0)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    sample = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    if b"\x00" in sample:
        raise ImportFileError("binary_file", NOT_A_TABLE)
    if _first_undecodable(stream, "utf-8") is None:
        return "utf-8"
    failure = _first_undecodable(stream, "cp1251")
    if failure is None:
        return "cp1251"
    offset, byte = failure
    raise ImportFileError(
        "encoding",
        f"Не удалось прочитать текст: файл не в UTF-8 и не в Windows-1251 (байт 0x{byte:02X} в позиции "
        f"{offset}). Сохраните прайс-лист как CSV в UTF-8 или как .xlsx",
    )


def read_sample(stream: BinaryIO, encoding: str) -> str:
    """The first ``SAMPLE_BYTES`` of the file as text, cut after its last complete line."""
    wrapper = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    try:
        text = wrapper.read(SAMPLE_BYTES)
    finally:
        wrapper.detach()
        stream.seek(0)
    cut = max(text.rfind("\n"), text.rfind("\r"))
    return text[: cut + 1] if cut > 0 and len(text) >= SAMPLE_BYTES else text


def check_text(sample: str) -> None:
    """Refuse binary garbage that happens to decode (cp1251 decodes almost any byte)."""
    if not sample.strip():
        raise ImportFileError("empty_file", "Файл пуст: в нём нет ни одной непустой строки")
    control = sum(1 for ch in sample if ch not in "\t\r\n" and unicodedata.category(ch) == "Cc")
    if control > max(1, len(sample) * _CONTROL_SHARE):
        raise ImportFileError("binary_file", NOT_A_TABLE)


def _consistency(sample: str, delimiter: str) -> tuple[float, int]:
    """(share of non-blank rows that have the modal column count, that count); (0, 0) if it never splits."""
    try:
        widths = [
            len(row)
            for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
            if any(cell.strip() for cell in row)
        ]
    except csv.Error:  # e.g. an unclosed quote swallowing the sample: this delimiter does not explain it
        return 0.0, 0
    split = Counter(w for w in widths if w > 1)
    if not split:
        return 0.0, 0
    modal, count = split.most_common(1)[0]
    return round(count / len(widths), 1), modal


def detect_delimiter(sample: str) -> str:
    """``;``, ``,`` or tab: the one that splits the sample most consistently into the most columns."""
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    scores = {d: _consistency(sample, d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (*scores[d], d == sniffed))
    return best if scores[best][1] else (sniffed or ";")


class CsvTable:
    """Rows of a CSV file as ``(row number, cells)``; the row number is the record's, as Excel numbers it."""

    format = "csv"
    sheet = None

    def __init__(self, stream: BinaryIO, *, encoding: str | None = None, delimiter: str | None = None):
        self._stream = stream
        self.encoding = encoding or detect_encoding(stream)
        sample = read_sample(stream, self.encoding)
        check_text(sample)
        self.delimiter = delimiter or detect_delimiter(sample)

    def describe(self) -> str:
        """How the file was read, for the wizard: «CSV, Windows-1251, разделитель точка с запятой»."""
        encoding = ENCODING_NAMES.get(self.encoding, self.encoding)
        return f"CSV, {encoding}, разделитель {DELIMITER_NAMES.get(self.delimiter, self.delimiter)}"

    def rows(self) -> Iterator[tuple[int, tuple]]:
        text = io.TextIOWrapper(self._stream, encoding=self.encoding, newline="")
        reader = csv.reader(text, delimiter=self.delimiter)
        number = 0
        try:
            for number, row in enumerate(reader, 1):
                yield number, tuple(cell or None for cell in row)
        except csv.Error as err:
            reason = "слишком длинное поле" if "field limit" in str(err) else "ошибка разбора CSV"
            raise ImportFileError("bad_csv", f"Строка {number + 1}: {reason}") from err
        except UnicodeDecodeError as err:  # the file changed after its encoding was checked
            raise ImportFileError("encoding", f"Строка {number + 1}: текст не в {self.encoding}") from err
        finally:
            if not self._stream.closed:  # the table may be closed under a generator left unfinished
                text.detach()
