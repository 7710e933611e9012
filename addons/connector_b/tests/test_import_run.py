"""Preview, run and re-run of a price list: what lands in Odoo, once, with the counts the engine gave."""

import io

from openpyxl import load_workbook

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ImportCase, generated_rows, price_csv


@tagged("post_install", "-at_install")
class TestImportRun(ImportCase):
    def test_preview_counts_and_rows_then_run_creates_products_with_vendor_lines_once(self):
        rows = generated_rows(5)
        bad = ("T-BAD", "Без цены", "", "шт", "0.00", "")
        job = self.job(price_csv([*rows, bad, rows[0]]))
        job.action_preview()
        self.assertEqual(job.state, "previewed")
        self.assertEqual((job.rows_total, job.count_new, job.count_rejected), (7, 5, 2))
        preview = self.env["connector.import.log"].search([("job_id", "=", job.id)])
        self.assertEqual(len(preview), 7)
        self.assertEqual(set(preview.mapped("phase")), {"preview"})
        self.assertFalse(self.lines_of(r[0] for r in rows), "a preview writes no product")

        job.action_confirm()
        self.assertEqual(job.state, "queued")
        job._run()
        self.assertEqual(job.state, "done", job.error)
        lines = self.lines_of(r[0] for r in rows)
        self.assertEqual(len(lines), 5)
        self.assertEqual(sorted(lines.mapped("price")), [1000.0, 1001.0, 1002.0, 1003.0, 1004.0])
        first = lines.filtered(lambda s: s.product_code == "T-000000").product_tmpl_id
        # Retail: 100 % markup, up to the next price ending in 90 → 2000 → 2090.
        self.assertEqual(first.list_price, 2090.0)
        self.assertEqual(first.standard_price, 1000.0)
        self.assertEqual(first.barcode, rows[0][5])
        self.assertEqual((job.count_applied, job.count_rejected, job.rows_done), (5, 2, 7))
        log = self.env["connector.import.log"].search([("job_id", "=", job.id)])
        self.assertEqual(set(log.mapped("phase")), {"run"}, "the run's lines replace the preview's")

        again = self.run_job(price_csv(rows))
        self.assertEqual((again.count_new, again.count_unchanged), (0, 5))
        self.assertEqual(len(self.lines_of(r[0] for r in rows)), 5, "a second run creates nothing")
        self.assertEqual(self.env["product.template"].search_count([("default_code", "=", "T-000000")]), 1)

    def test_price_updates_change_the_vendor_price_and_retail_in_place(self):
        rows = generated_rows(3)
        self.run_job(price_csv(rows))
        template = self.lines_of(["T-000001"]).product_tmpl_id
        before = template.write_date
        updated = [(*r[:4], f"{float(r[4]) * 1.1:.2f}", r[5]) for r in rows]
        job = self.run_job(price_csv(updated))
        self.assertEqual((job.count_changed_up, job.count_new), (3, 0))
        line = self.lines_of(["T-000001"])
        self.assertEqual(line.price, 1101.1)
        self.assertEqual(line.connector_job_id, job)
        self.assertEqual(template.list_price, 2290.0)  # 1101.10 x 2 = 2202.20 → 2290
        self.assertEqual(template.standard_price, 1001.0, "the cost belongs to valuation: not moved")
        self.assertGreaterEqual(template.write_date, before)

    def test_a_barcode_already_taken_rejects_the_row_at_apply_time(self):
        rows = generated_rows(2)
        self.env["product.product"].create({"name": "Чужой товар", "barcode": rows[1][5]})
        job = self.run_job(price_csv(rows))
        self.assertEqual((job.count_applied, job.count_rejected), (1, 1))
        refused = self.env["connector.import.log"].search(
            [("job_id", "=", job.id), ("status", "=", "rejected")]
        )
        self.assertIn("уже у товара «Чужой товар»", refused.reasons)

    def test_rejected_rows_report_opens_in_openpyxl_with_reasons(self):
        rows = generated_rows(2)
        job = self.job(price_csv([*rows, ("T-X", "Дорогая", "", "кор", "10,00", "")]))
        job.action_preview()
        action = job.action_rejected_report("xlsx")
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        sheet = load_workbook(io.BytesIO(attachment.raw), read_only=True).active
        table = [list(r) for r in sheet.iter_rows(values_only=True)]
        self.assertEqual(table[0][0], "Строка")
        self.assertEqual(len(table), 2)
        self.assertEqual(table[1][0], 4)
        self.assertIn("Неизвестная единица измерения «кор»", table[1][-1])
        csv_action = job.action_rejected_report("csv")
        self.assertTrue(csv_action["url"].startswith("/web/content/"))

    def test_a_file_that_cannot_be_read_is_refused_in_russian_and_leaves_no_rows(self):
        job = self.job(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, name="old.xls")
        with self.assertRaisesRegex(UserError, "Формат .xls"):
            job.action_preview()
        self.assertEqual(job.state, "draft")
        with self.assertRaisesRegex(UserError, "Preview"):
            job.action_confirm()

    def test_samples_of_the_three_suppliers_preview_with_their_known_bad_rows(self):
        import base64

        from .common import SAMPLES

        for code_1199, name in (("6", "Без НДС (оптика)"), ("11", "НДС 22 % (оптика)")):
            self.env["account.tax"].create(
                {"name": name, "amount": 0 if code_1199 == "6" else 22, "type_tax_use": "sale",
                 "optics_ffd_vat_code": code_1199}
            )  # fmt: skip
        for code, sample in (
            ("optima_frames", "optima_frames.csv"),
            ("aquaview_contacts", "aquaview_contacts.csv"),
            ("linzmaster_price", "linzmaster_lenses.xlsx"),
        ):
            profile = self.env["connector.import.profile"].search([("code", "=", code)])
            self.assertEqual(len(profile), 1, code)
            job = self.Job.create(
                {"profile_id": profile.id, "file": base64.b64encode((SAMPLES / sample).read_bytes()),
                 "file_name": sample}
            )  # fmt: skip
            job.action_preview()
            self.assertGreater(job.count_new, 5, code)
            self.assertGreater(job.count_rejected, 0, code)
            job.action_confirm()
            job._run()
            self.assertEqual(job.state, "done", f"{code}: {job.error}")
            self.assertEqual(job.count_applied, job.count_new, code)
            self.assertGreater(job.count_applied, 5, code)
            created = self.env["product.supplierinfo"].search_count([("connector_job_id", "=", job.id)])
            self.assertEqual(created, job.count_applied, code)
