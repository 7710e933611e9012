"""The end-of-day report of ``make demo``: measured figures in Russian (pure functions, unit-tested).

Every number comes from a measurement taken by ``day.py`` (the emulator's FN journal, the adapter's buffer,
the stand-ins' records); nothing here is a constant. Russian nouns agree with their numbers (1 чек,
2 чека, 5 чеков).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


def plural(n: int, one: str, few: str, many: str) -> str:
    """``n`` with the Russian noun form it takes: plural(21, "чек", "чека", "чеков") == "21 чек"."""
    tens, units = n % 100, n % 10
    if 11 <= tens <= 14:
        form = many
    elif units == 1:
        form = one
    elif 2 <= units <= 4:
        form = few
    else:
        form = many
    return f"{n} {form}"


def receipts(n: int) -> str:
    return plural(n, "чек", "чека", "чеков")


def documents(n: int) -> str:
    return plural(n, "документ", "документа", "документов")


def counts_text(counts: Mapping[str, int], names: Mapping[str, str] | None = None) -> str:
    """``{"sale": 12, "refund": 1}`` → ``продажа 12, возврат 1`` (no Python reprs in the output)."""
    names = names or {}
    if not counts:
        return "нет"
    return ", ".join(
        f"{names.get(k, k)} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def written_twice(keys: Iterable[object]) -> int:
    """How many records repeat a key already recorded (0 when every key is unique)."""
    return sum(n - 1 for n in Counter(keys).values() if n > 1)


KINDS = {"sale": "продажа", "refund": "возврат", "correction": "коррекция"}


@dataclass
class DayMeasurement:
    fn_documents: int  # documents in the emulator's FN journal
    fn_receipts: int  # of which receipts (FFD types 3 and 31)
    fn_receipts_twice: int  # receipts whose text the FN holds more than once
    orphans: int  # FN receipts without a buffer row
    printed_kinds: Mapping[str, int]
    ofd_unique: int
    ofd_twice: int  # OFD records repeating an (FN, FD) key
    ofd_resends_absorbed: int
    odoo_unique: int
    odoo_twice: int  # Odoo records repeating an (FN, FD) key
    odoo_resends_absorbed: int
    dlq: int
    events: Mapping[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            self.fn_receipts_twice == 0
            and self.orphans == 0
            and self.dlq == 0
            and self.ofd_twice == 0
            and self.odoo_twice == 0
            and self.ofd_unique == self.fn_documents
            and self.odoo_unique == self.fn_receipts
        )


def summary_lines(m: DayMeasurement) -> list[str]:
    return [
        f"документов в ФН: {m.fn_documents}, из них чеков: {m.fn_receipts}",
        f"напечатано по видам: {counts_text(m.printed_kinds, KINDS)}",
        f"события журнала: {counts_text(m.events)}",
        f"чеков, пробитых в ФН дважды: {m.fn_receipts_twice}",
        f"документов ФН без строки в буфере: {m.orphans}",
        f"ОФД: принято {documents(m.ofd_unique)} из {m.fn_documents}, записано дважды {m.ofd_twice}, "
        f"повторных отправок поглощено {m.ofd_resends_absorbed}",
        f"Odoo: принято {receipts(m.odoo_unique)} из {m.fn_receipts}, записано дважды {m.odoo_twice}, "
        f"повторных отправок поглощено {m.odoo_resends_absorbed}",
        f"записей в DLQ: {m.dlq}",
        "итог: " + ("всё сошлось" if m.ok else "РАСХОЖДЕНИЕ — см. строки выше"),
    ]
