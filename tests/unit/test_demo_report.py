"""The `make demo` report: Russian plurals, no Python reprs, and figures that follow the measurement."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "demo_report", Path(__file__).resolve().parents[2] / "appliance/demo/report.py"
)
report = importlib.util.module_from_spec(SPEC)
sys.modules[SPEC.name] = report  # dataclasses look their module up there
SPEC.loader.exec_module(report)


@pytest.mark.parametrize(
    "n, text",
    [(0, "0 чеков"), (1, "1 чек"), (2, "2 чека"), (4, "4 чека"), (5, "5 чеков"), (11, "11 чеков"),
     (14, "14 чеков"), (21, "21 чек"), (22, "22 чека"), (111, "111 чеков"), (101, "101 чек")],
)  # fmt: skip
def test_russian_plurals(n, text):
    assert report.receipts(n) == text


def clean_day(**changes):
    base = dict(
        fn_documents=30,
        fn_receipts=22,
        fn_receipts_twice=0,
        orphans=0,
        printed_kinds={"sale": 20, "refund": 1, "correction": 1},
        ofd_unique=30,
        ofd_twice=0,
        ofd_resends_absorbed=3,
        odoo_unique=22,
        odoo_twice=0,
        odoo_resends_absorbed=2,
        dlq=0,
        events={"receipt_added": 22},
    )
    base.update(changes)
    return report.DayMeasurement(**base)


def test_a_clean_day_reads_as_such_without_reprs():
    text = "\n".join(report.summary_lines(clean_day()))
    assert "{" not in text and "}" not in text and "Counter" not in text
    assert "продажа 20, коррекция 1, возврат 1" in text  # by count, then by key
    assert "Odoo: принято 22 чека из 22, записано дважды 0, повторных отправок поглощено 2" in text
    assert text.endswith("итог: всё сошлось")


def test_a_planted_duplicate_is_reported_not_hidden():
    keys = [("9999", 1), ("9999", 2), ("9999", 2)]  # the Odoo side recorded FD 2 twice
    day = clean_day(odoo_twice=report.written_twice(keys))
    text = "\n".join(report.summary_lines(day))
    assert "записано дважды 1" in text
    assert not day.ok and "РАСХОЖДЕНИЕ" in text
