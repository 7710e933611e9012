"""Shared set-up of connector_b's tests: the runner's commits as savepoints, files, jobs.

A test's cursor cannot commit, so the runner's chunk boundary (``_commit``) becomes a savepoint and its
failure path (``_rollback``) rolls back to the last one — the same all-or-nothing per chunk as the real
commits. Price lists are written in the tests (CSV in cp1251 with ``;`` and decimal commas, as the
suppliers send them) or taken from ``data/samples``.
"""

import base64
import csv
import io
from pathlib import Path
from unittest.mock import patch

from odoo.tests.common import TransactionCase

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
HEADER = ["Артикул", "Наименование", "Категория", "Ед. изм.", "Цена", "Штрихкод"]
CONFIG = {
    "columns": {
        "supplier_sku": "Артикул",
        "name": "Наименование",
        "category": "Категория",
        "unit": "Ед. изм.",
        "price": "Цена",
        "barcode": "Штрихкод",
    },
    "upsert_key": "supplier_sku",
    "retail": {"default_markup_percent": 100, "endings": ["90"]},
}


def ean13(first12: str) -> str:
    digits = [int(c) for c in first12]
    total = sum(digits[0::2]) + 3 * sum(digits[1::2])
    return first12 + str((10 - total % 10) % 10)


def price_csv(rows) -> bytes:
    """A cp1251 CSV with ``;`` and decimal commas from (sku, name, category, unit, price, barcode) rows."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for sku, name, category, unit, price, barcode in rows:
        writer.writerow([sku, name, category, unit, str(price).replace(".", ","), barcode])
    return out.getvalue().encode("cp1251")


def generated_rows(count, start=0, price=lambda i: 1000 + i, prefix="T"):
    return [
        (f"{prefix}-{i:06d}", f"Оправа {prefix} {i}", "", "шт", f"{price(i):.2f}", ean13(f"29{i:010d}"))
        for i in range(start, start + count)
    ]


def patch_runner(case) -> None:
    """The runner's commits become savepoints for the duration of ``case``'s test (see the docstring)."""
    cr = case.env.cr
    Job = type(case.env["connector.import.job"])

    def chunk_done(job):
        job.env.flush_all()  # as a commit does
        cr.execute("SAVEPOINT connector_chunk")

    def chunk_failed(job):
        cr.execute("ROLLBACK TO SAVEPOINT connector_chunk")
        job.env.transaction.clear()  # as a rollback does: the cache and pending writes are dropped

    cr.execute("SAVEPOINT connector_chunk")
    for name, method in (("_commit", chunk_done), ("_rollback", chunk_failed)):
        patcher = patch.object(Job, name, method)
        patcher.start()
        case.addCleanup(patcher.stop)


class ImportCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.Job = cls.env["connector.import.job"]
        cls.supplier = cls.env["res.partner"].create({"name": "Тест-Поставщик", "is_company": True})
        cls.profile = cls.env["connector.import.profile"].create(
            {
                "name": "Тестовый прайс",
                "code": "test_prices",
                "supplier_id": cls.supplier.id,
                "config": CONFIG,
            }
        )

    def setUp(self):
        super().setUp()
        patch_runner(self)

    def job(self, content: bytes, profile=None, name="prices.csv"):
        return self.Job.create(
            {"profile_id": (profile or self.profile).id, "file": base64.b64encode(content), "file_name": name}
        )

    def run_job(self, content: bytes, profile=None):
        """Upload, preview, confirm and run one file to the end; the job."""
        job = self.job(content, profile)
        job.action_preview()
        job.action_confirm()
        job._run()
        return job

    def lines_of(self, skus):
        return self.env["product.supplierinfo"].search(
            [("partner_id", "=", self.supplier.id), ("product_code", "in", list(skus))]
        )
