"""The upsert's SQL: the queries of a 1,000-row chunk are bounded and do not grow with the rows.

Counted with the cursor's own counter (``sql_log_count``, every statement Odoo runs) around the runner's
chunk loop: one chunk of 1,000 rows, then two chunks of 1,000 — the second chunk must cost what the first
did, and a chunk's total stays under a fixed bound (never one round-trip per row).
"""

import logging

from odoo.tests import tagged

from .common import ImportCase, generated_rows, price_csv

_logger = logging.getLogger(__name__)
#: Queries one chunk of 1,000 price updates may take (measured: see the log line; a per-row ORM write
#: would be ≥ 1,000).
UPDATE_CHUNK_LIMIT = 40
#: Queries one chunk of 1,000 new products may take (batched creates of templates, variants and vendor
#: lines; measured: see the log line).
NEW_CHUNK_LIMIT = 400


@tagged("post_install", "-at_install")
class TestQueryCount(ImportCase):
    def queries_of_run(self, content):
        job = self.job(content)
        job.action_preview()
        job.action_confirm()
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        job._run()
        self.env.flush_all()
        self.assertEqual(job.state, "done", job.error)
        return self.env.cr.sql_log_count - before, job

    def test_price_updates_take_a_bounded_number_of_queries_per_thousand_rows(self):
        rows = generated_rows(2000)
        self.queries_of_run(price_csv(rows))
        changed = [(*r[:4], f"{float(r[4]) * 1.05:.2f}", r[5]) for r in rows]
        one, job = self.queries_of_run(price_csv(changed[:1000]))
        self.assertEqual(job.count_changed_up, 1000)
        again = [(*r[:4], f"{float(r[4]) * 1.1:.2f}", r[5]) for r in rows]
        two, job = self.queries_of_run(price_csv(again))
        self.assertEqual(job.count_changed_up, 2000)
        _logger.info("price updates: %s queries for 1,000 rows, %s for 2,000", one, two)
        self.assertLessEqual(one, UPDATE_CHUNK_LIMIT)
        self.assertLessEqual(two - one, UPDATE_CHUNK_LIMIT, "the second chunk costs no more than a chunk")
        self.assertEqual(self.lines_of([rows[1999][0]]).price, round(float(rows[1999][4]) * 1.1, 2))

    def test_new_products_take_a_bounded_number_of_queries_per_thousand_rows(self):
        one, job = self.queries_of_run(price_csv(generated_rows(1000, prefix="N1")))
        self.assertEqual(job.count_applied, 1000)
        two, job = self.queries_of_run(price_csv(generated_rows(2000, start=1000, prefix="N2")))
        self.assertEqual(job.count_applied, 2000)
        _logger.info("new products: %s queries for 1,000 rows, %s for 2,000", one, two)
        self.assertLessEqual(one, NEW_CHUNK_LIMIT)
        self.assertLessEqual(two - one, NEW_CHUNK_LIMIT)
