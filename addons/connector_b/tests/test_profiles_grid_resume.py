"""Profiles (checked by the engine, Russian errors), the lens-stock grid kind, the runner's resume after a
failed chunk, progress, and the till's "undelivered since" from heartbeats."""

import base64
from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..models.job_run import ImportJobRun
from .common import SAMPLES, ImportCase, generated_rows, price_csv


@tagged("post_install", "-at_install")
class TestProfiles(ImportCase):
    def test_the_three_sample_suppliers_profiles_are_installed(self):
        profiles = self.env["connector.import.profile"].search([("code", "in", (
            "linzmaster_price", "linzmaster_stock_156", "optima_frames", "aquaview_contacts"))])  # fmt: skip
        self.assertEqual(len(profiles), 4)
        self.assertEqual(profiles.filtered(lambda p: p.code == "aquaview_contacts").upsert_key, "barcode")
        self.assertEqual(profiles.filtered(lambda p: p.code == "linzmaster_stock_156").kind, "lens_grid")
        self.assertEqual(set(profiles.mapped("hold_percent")), {20.0})

    def test_a_wrong_profile_is_refused_in_russian(self):
        with self.assertRaisesRegex(ValidationError, "ключ сопоставления"):
            self.profile.config = {**self.profile.config, "upsert_key": "name"}
        with self.assertRaisesRegex(ValidationError, "[А-Яа-я]"):
            self.profile.config = {**self.profile.config, "colums": {}}
        with self.assertRaisesRegex(ValidationError, "JSON"):
            self.profile.config_text = "{not json"

    def test_the_json_text_edits_the_rules(self):
        text = self.profile.config_text.replace(
            '"endings": [\n      "90"\n    ]', '"endings": [\n      "99"\n    ]'
        )
        self.assertNotEqual(text, self.profile.config_text)
        self.profile.config_text = text
        self.assertEqual(self.profile.config["retail"]["endings"], ["99"])
        self.assertEqual(self.profile._engine_profile().retail.endings, ("99",))


@tagged("post_install", "-at_install")
class TestLensGrid(ImportCase):
    def test_the_stock_grid_updates_the_lens_variants_supplier_stock(self):
        exempt = self.env["account.tax"].create(
            {"name": "Без НДС (линзы)", "amount": 0, "type_tax_use": "sale", "optics_ffd_vat_code": "6"}
        )
        lens = self.env["optics.lens"].create({"name": "ЛМ 1.56 AR"})
        lens.generate_stock_grid(-6, 2, -3, 0, taxes=exempt)
        profile = self.env["connector.import.profile"].search([("code", "=", "linzmaster_stock_156")])
        profile.lens_template_id = lens.product_tmpl_id
        job = self.Job.create(
            {"profile_id": profile.id, "file_name": "linzmaster_lenses.xlsx",
             "file": base64.b64encode((SAMPLES / "linzmaster_lenses.xlsx").read_bytes())}
        )  # fmt: skip
        job.action_preview()
        self.assertGreater(job.count_new, 100)
        self.assertGreater(job.count_rejected, 0, "the sample's bad cells")
        job.action_confirm()
        job._run()
        self.assertEqual(job.state, "done", job.error)
        lines = self.env["product.supplierinfo"].search([("connector_job_id", "=", job.id)])
        self.assertEqual(len(lines), job.count_applied)
        variant = lines.filtered(lambda s: s.product_code == "ЛМ-156-AR/-2.00/-0.50").product_id
        self.assertEqual((variant.optics_sph, variant.optics_cyl), (-2.0, -0.5))
        self.assertEqual(lines[0].price, 1480.0)
        self.assertEqual(lines.mapped("product_tmpl_id"), lens.product_tmpl_id)

    def test_a_grid_profile_without_its_lens_is_refused(self):
        profile = self.env["connector.import.profile"].search([("code", "=", "linzmaster_stock_156")])
        job = self.Job.create(
            {"profile_id": profile.id, "file_name": "x.xlsx",
             "file": base64.b64encode((SAMPLES / "linzmaster_lenses.xlsx").read_bytes())}
        )  # fmt: skip
        with self.assertRaisesRegex(UserError, "lens"):
            job.action_preview()


@tagged("post_install", "-at_install")
class TestResume(ImportCase):
    def test_a_failed_chunk_is_rolled_back_whole_and_the_retry_resumes_after_the_last_committed_chunk(self):
        self.profile.config = {**self.profile.config, "chunk_size": 100}
        rows = generated_rows(450)
        job = self.job(price_csv(rows))
        job.action_preview()
        job.action_confirm()
        original = ImportJobRun._apply_chunk
        seen = []

        def crash_in_chunk_2(job_self, chunk, matcher, upsert):
            seen.append(chunk.index)
            done = original(job_self, chunk, matcher, upsert)
            if chunk.index == 2:
                raise OSError("the server went down mid-chunk")
            return done

        with (
            patch.object(ImportJobRun, "_apply_chunk", crash_in_chunk_2),
            self.assertLogs("odoo.addons.connector_b.models.job_run", "ERROR") as logged,
        ):
            job._run()
        self.assertIn("failed at chunk 2", logged.output[0])
        self.assertEqual(job.state, "failed")
        self.assertIn("went down", job.error)
        self.assertEqual((job.next_chunk, job.rows_done), (2, 200))
        self.assertEqual(len(self.lines_of(r[0] for r in rows)), 200, "chunk 2's products were rolled back")
        job.action_retry()
        self.assertEqual(job.state, "queued")
        job._run()
        self.assertEqual(job.state, "done", job.error)
        self.assertEqual((job.rows_done, job.count_applied, job.progress), (450, 450, 100.0))
        lines = self.lines_of(r[0] for r in rows)
        self.assertEqual(len(lines), 450)
        self.assertEqual(len(set(lines.mapped("product_code"))), 450)
        log = self.env["connector.import.log"].search([("job_id", "=", job.id), ("phase", "=", "run")])
        self.assertEqual(sorted(log.mapped("row_number")), list(range(2, 452)), "every row logged once")

    def test_progress_is_committed_with_each_chunk(self):
        self.profile.config = {**self.profile.config, "chunk_size": 100}
        job = self.job(price_csv(generated_rows(250)))
        job.action_preview()
        job.action_confirm()
        progress = []
        with patch.object(type(job), "_commit", lambda j: progress.append((j.rows_done, round(j.progress)))):
            job._run()
        self.assertEqual(progress[:4], [(0, 0), (100, 40), (200, 80), (250, 100)])


@tagged("post_install", "-at_install")
class TestUndeliveredSince(ImportCase):
    def test_heartbeats_keep_the_time_the_queue_went_non_empty(self):
        till = self.env["pos.offline.buffer.status"].create({"name": "Касса 7", "pos_id": "connector-b-hb"})
        hlc = "001796378400000.00000"
        till._record_heartbeat(hlc, {"buffer": {"queued": 0, "capacity": 100}}, 1796378400000)
        self.assertFalse(till.undelivered_since)
        till._record_heartbeat(hlc, {"buffer": {"queued": 3, "capacity": 100}}, 1796378400000)
        first = till.undelivered_since
        self.assertTrue(first)
        till._record_heartbeat(hlc, {"buffer": {"queued": 5, "capacity": 100}}, 1796378400000)
        self.assertEqual(till.undelivered_since, first, "kept while the queue stays non-empty")
        till._record_heartbeat(hlc, {"buffer": {"queued": 0, "capacity": 100}}, 1796378400000)
        self.assertFalse(till.undelivered_since)
