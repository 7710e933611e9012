"""The import run: a price list streamed through its profile into chunks of classified rows, with counters.

``ImportRun(source, profile, prices=…, grid_check=…)`` opens the file and finds its header at once (so a
wrong file fails in the wizard, before any job), then, when iterated, streams ``Chunk``s of
``chunk_size`` rows (1,000 by default). Chunks are deterministic for a given file and profile: a resumed
job passes ``start_chunk`` = the chunks it already committed; those are still read (in-file duplicates
need every earlier row) but not priced or yielded. ``counters`` grow as chunks are yielded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain, islice

from .classify import REJECTED, STATUSES, PriceLookup, as_price, classify, lookup_prices
from .errors import CellError, ImportFileError, ProfileError
from .fields import OPTICAL
from .layout import find_layout, is_blank
from .lens_grid import GridRows
from .profile import HEADER_SCAN_ROWS, LENS_GRID, Profile
from .rows import Pending, ProductRows
from .table import Source, open_table
from .validate import GridCheck, Reason
from .values import parse_decimal


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One normalised, classified row: where it came from, its key, values, original cells and verdict.

    ``values``: ``supplier_sku``, ``barcode``, ``name``, ``price`` (Decimal, roubles, 2 places), ``unit``
    (our code), ``category``, ``brand``, ``qty``, optical fields (grid-checked Decimals), ``retail_price``
    when the profile has a retail rule — those the profile maps. ``status``: one of ``classify.STATUSES``.
    """

    source_row: int
    source_cell: str | None
    key: str | None
    values: Mapping[str, object]
    raw: tuple
    status: str
    reasons: tuple[Reason, ...]
    current_price: Decimal | None = None
    change_percent: Decimal | None = None

    @property
    def rejected(self) -> bool:
        return self.status == REJECTED

    def reasons_text(self) -> str:
        return "; ".join(r.message for r in self.reasons)


@dataclass(frozen=True)
class Chunk:
    """``rows`` of one chunk, ``index`` its 0-based position in the file (the resume point)."""

    index: int
    rows: tuple[ImportRow, ...]

    @property
    def first_row(self) -> int:
        return self.rows[0].source_row

    @property
    def last_row(self) -> int:
        return self.rows[-1].source_row


@dataclass
class Counters:
    """Running totals: ``rows`` read (grid: cells), ``skipped`` blank or title rows, ``statuses`` by status,
    ``chunks`` yielded, and what a resume passed over (``resumed_chunks``, ``resumed_rows``)."""

    rows: int = 0
    skipped: int = 0
    chunks: int = 0
    resumed_chunks: int = 0
    resumed_rows: int = 0
    statuses: Counter = field(default_factory=Counter)

    @property
    def rejected(self) -> int:
        return self.statuses[REJECTED]

    @property
    def accepted(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != REJECTED)

    def as_dict(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "skipped": self.skipped,
            "chunks": self.chunks,
            "resumed_chunks": self.resumed_chunks,
            "resumed_rows": self.resumed_rows,
            "accepted": self.accepted,
            **{status: self.statuses[status] for status in STATUSES},
        }


def _rate(profile: Profile, currency_rate) -> Decimal | None:
    if profile.currency == "RUB":
        return None
    try:
        rate = parse_decimal(currency_rate) if currency_rate is not None else profile.currency_rate
    except CellError as err:
        raise ProfileError(f"Курс {profile.currency} к рублю: {err}") from err
    if rate is None or not rate > 0:
        raise ProfileError(f"Профиль «{profile.name}»: цены в {profile.currency}, но курс к рублю не задан")
    return rate


class ImportRun:
    """A price list read through a profile; iterate it once for its ``Chunk``s (see the module docstring).

    ``prices``: today's prices by upsert key (a mapping, or a callable taking one chunk's keys).
    ``grid_check``: ``grids.grid_checker({...})`` or any ``(field, value) -> Decimal``; required when the
    profile has optical fields. ``currency_rate`` overrides the profile's rate. Raises ``ImportFileError``
    (``ProfileError``) at once for a file or profile that cannot be imported. Use as a context manager or
    exhaust it: the file is closed at the end of the iteration.
    """

    def __init__(
        self,
        source: Source,
        profile: Profile,
        *,
        prices: PriceLookup | None = None,
        grid_check: GridCheck | None = None,
        currency_rate=None,
        chunk_size: int | None = None,
        start_chunk: int = 0,
    ):
        self.profile = profile
        self.chunk_size = profile.chunk_size if chunk_size is None else chunk_size
        if self.chunk_size < 1 or start_chunk < 0:
            raise ValueError("chunk_size must be >= 1 and start_chunk >= 0")
        self.start_chunk = start_chunk
        self.prices = prices
        self.counters = Counters()
        optical = profile.kind == LENS_GRID or any(f in profile.columns for f in OPTICAL)
        if optical and grid_check is None:
            raise ValueError(
                f"profile {profile.code!r} has optical fields: pass grid_check (grids.grid_checker)"
            )
        rate = _rate(profile, currency_rate)
        self._table = open_table(
            source, sheet=profile.sheet, encoding=profile.encoding, delimiter=profile.delimiter
        )
        self._iterated = False
        self._rows = None
        try:
            self._rows = self._table.rows()
            first = list(islice(self._rows, max(HEADER_SCAN_ROWS, profile.header_row or 0)))
            where = f"Лист «{self._table.sheet}»" if self._table.sheet else "Файл"
            if all(is_blank(cells) for _, cells in first):
                raise ImportFileError("empty_file", f"{where}: нет ни одной строки с данными")
            if profile.kind == LENS_GRID:
                self._reader = GridRows(first, profile, where, rate=rate, grid_check=grid_check)
                self.header_row = self._reader.header_row
                self.report_columns = self._reader.labels
                self._expand = self._reader.read
            else:
                layout = find_layout(first, profile, where)
                self._reader = ProductRows(profile, layout, rate=rate, grid_check=grid_check)
                self.header_row = layout.header_row
                self.report_columns = layout.labels
                read = self._reader.read
                self._expand = lambda n, cells: [p] if (p := read(n, cells)) is not None else []
            self._first = [(n, cells) for n, cells in first if n > self.header_row]
        except BaseException:
            self.close()
            raise

    @property
    def report_with_cell(self) -> bool:
        """Whether rows carry a cell address (lens grids): the report then has a «Ячейка» column."""
        return self.profile.kind == LENS_GRID

    def describe(self) -> str:
        """How the file was read: «CSV, Windows-1251, разделитель точка с запятой, заголовок в строке 3»."""
        header = f"заголовок в строке {self.header_row}" if self.header_row else "без строки заголовка"
        return f"{self._table.describe()}, {header}"

    def _pending(self) -> Iterator[Pending]:
        counters = self.counters
        for number, cells in chain(self._first, self._rows):
            produced = self._expand(number, cells)
            if not produced:
                counters.skipped += 1
            yield from produced

    def _classified(self, index: int, batch: list[Pending]) -> Chunk:
        profile, counters = self.profile, self.counters
        keys = [p.key for p in batch if not p.reasons and p.key is not None]
        current_prices = lookup_prices(self.prices, keys)
        rows = []
        for p in batch:
            if p.reasons:
                rows.append(
                    ImportRow(p.source_row, p.source_cell, p.key, p.values, p.raw, REJECTED, tuple(p.reasons))
                )
                continue
            current = as_price(current_prices.get(p.key)) if self.prices is not None else None
            status, change = classify(p.values.get("price"), current, profile.hold_percent)
            rows.append(
                ImportRow(p.source_row, p.source_cell, p.key, p.values, p.raw, status, (), current, change)
            )
        counters.statuses.update(r.status for r in rows)
        counters.chunks += 1
        return Chunk(index, tuple(rows))

    def _chunks(self) -> Iterator[Chunk]:
        try:
            pending = self._pending()
            index = 0
            while batch := list(islice(pending, self.chunk_size)):
                self.counters.rows += len(batch)
                if index < self.start_chunk:
                    self.counters.resumed_chunks += 1
                    self.counters.resumed_rows += len(batch)
                else:
                    yield self._classified(index, batch)
                index += 1
        finally:
            self.close()

    def __iter__(self) -> Iterator[Chunk]:
        if self._iterated:
            raise RuntimeError("an ImportRun is iterated once: open a new one to read the file again")
        self._iterated = True
        return self._chunks()

    def close(self) -> None:
        if self._rows is not None:
            self._rows.close()  # the reader's generator first, while its file is still open
        self._table.close()

    def __enter__(self) -> ImportRun:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
