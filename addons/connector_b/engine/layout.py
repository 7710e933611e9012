"""Where a price list's columns are: the header row (fixed by the profile or found) and each field's column.

The header is the first of the first ``HEADER_SCAN_ROWS`` rows holding every header name the profile maps
(compared without case, extra spaces, NBSP or a trailing ``:``/``*``/``.``), so a supplier's letterhead above
the table does not matter. A profile mapping only column letters needs no header (``header_row`` 0 or the
row it names). A missing column or header is an ``ImportFileError`` naming what was looked for and found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import ImportFileError
from .profile import HEADER_SCAN_ROWS, Profile, column_index
from .values import clean_text

Rows = Sequence[tuple[int, tuple]]


def header_key(value) -> str:
    """A header cell as compared with the profile's names."""
    text = clean_text(value)
    return text.casefold().rstrip(" :*.").strip() if text else ""


def is_blank(cells: tuple) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


@dataclass(frozen=True)
class Layout:
    """The mapped fields in column order with their 0-based indexes and header texts (report columns)."""

    header_row: int
    fields: tuple[str, ...]
    indexes: tuple[int, ...]
    labels: tuple[str, ...]


def _build(profile: Profile, header_row: int, header: tuple, found: dict[str, int]) -> Layout:
    placed = []
    for code, ref in profile.columns.items():
        index = found[code] if ref.header is not None else column_index(ref.letter)
        label = clean_text(header[index]) if index < len(header) else None
        placed.append((index, code, label or ref.header or ref.letter))
    placed.sort()
    return Layout(
        header_row=header_row,
        fields=tuple(code for _, code, _ in placed),
        indexes=tuple(index for index, _, _ in placed),
        labels=tuple(label for _, _, label in placed),
    )


def find_layout(rows: Rows, profile: Profile, where: str) -> Layout:
    """The layout of ``rows`` (the file's first rows) under ``profile``; ``where`` names the file/sheet."""
    named = {code: header_key(ref.header) for code, ref in profile.columns.items() if ref.header is not None}
    if not named:
        number = profile.header_row or 0
        header = next((cells for n, cells in rows if n == number), ())
        return _build(profile, number, header, {})
    if profile.header_row:
        candidates = [(n, cells) for n, cells in rows if n == profile.header_row]
        scope = f"в строке {profile.header_row}"
    else:
        candidates = list(rows)
        scope = f"в первых {HEADER_SCAN_ROWS} строках"
    best = None
    for number, cells in candidates:
        keys: dict[str, int] = {}
        for index, cell in enumerate(cells):
            if key := header_key(cell):
                keys.setdefault(key, index)
        found = {code: keys[key] for code, key in named.items() if key in keys}
        if len(found) == len(named):
            return _build(profile, number, cells, found)
        if found and (best is None or len(found) > len(best[2])):
            best = (number, cells, found)
    wanted = {code: profile.columns[code].header for code in named}
    if best is not None:
        number, cells, found = best
        missing = ", ".join(f"«{wanted[c]}»" for c in named if c not in found)
        present = ", ".join(f"«{t}»" for t in (clean_text(c) for c in cells) if t)
        raise ImportFileError(
            "column_not_found",
            f"{where}: в строке заголовка {number} нет столбцов {missing}. Столбцы в файле: {present}. "
            "Исправьте сопоставление столбцов в профиле или заголовок в файле",
        )
    names = ", ".join(f"«{t}»" for t in wanted.values())
    raise ImportFileError(
        "header_not_found",
        f"{where}: не найдена строка заголовка — {scope} нет ни одного из столбцов {names}",
    )
