"""Glasses jobs: the workflow only in order, its guards (prescription, lens), overdue, remakes, messages,
amounts, deletion and the per-store record rules."""

from datetime import date, timedelta

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import OpticsCase


@tagged("post_install", "-at_install")
class TestManufacturingOrder(OpticsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.lens = env["optics.lens"].create(
            {"name": "SV 1.6", "sph_min": -8, "sph_max": 6, "cyl_min": -4, "cyl_max": 0}
        )
        cls.weak_lens = env["optics.lens"].create(
            {"name": "SV low", "sph_min": -1, "sph_max": 1, "cyl_min": -1, "cyl_max": 0}
        )
        cls.lens_product = env["product.product"].create({"name": "Линза SV 1.6", "lst_price": 3000.0})
        cls.frame = env["product.product"].create({"name": "Оправа", "lst_price": 4500.0})
        cls.work = env["product.product"].create({"name": "Работа", "type": "service", "lst_price": 500.0})
        cls.lab = env["res.partner"].create({"name": "Лаборатория", "is_company": True})
        cls.patient.write({"email": "maria@example.com", "phone": "+79991234567"})

    def job(self, user=None, **overrides):
        vals = {
            "partner_id": self.patient.id,
            "store_id": self.store_a.id,
            "prescription_id": self.prescription().id,
            "lens_id": self.lens.id,
            "line_ids": [
                (0, 0, {"product_id": self.lens_product.id, "quantity": 2}),
                (0, 0, {"product_id": self.frame.id}),
                (0, 0, {"product_id": self.work.id}),
            ],
        }
        vals.update(overrides)
        model = self.env["optics.manufacturing.order"]
        return (model.with_user(user) if user else model).create(vals)

    def to_lab(self, job):
        job.action_confirm()
        job.write({"lab_id": self.lab.id, "promised_date": date.today() + timedelta(days=5)})
        job.action_start_production()

    def test_the_job_walks_its_steps_in_order(self):
        job = self.job()
        self.assertRegex(job.name, r"^GJ-\d\d-\d{5}$")
        self.assertLessEqual(len(job.name), 16)  # FFD tag 1192 on the fiscal receipts
        self.assertEqual(job.amount_total, 2 * 3000 + 4500 + 500)
        self.assertEqual(job.amount_balance, job.amount_total)
        self.assertEqual(job.pickup_store_id, self.store_a)
        with self.assertRaisesRegex(UserError, "Job .*: cannot go from Draft to Ready"):
            job.action_ready()
        # Chatter tracking is written when the transaction would commit: once per step here.
        self.env.cr.precommit.run()
        job.action_confirm()
        self.env.cr.precommit.run()
        job.write({"lab_id": self.lab.id, "promised_date": date.today() + timedelta(days=5)})
        job.action_start_production()
        self.env.cr.precommit.run()
        self.assertEqual(job.state, "production")
        self.assertTrue(job.date_confirmed)
        with self.assertRaises(UserError):
            job.action_confirm()  # no step back
        job.action_ready()
        self.env.cr.precommit.run()
        self.assertEqual(job.state, "ready")
        self.assertTrue(job.date_ready)
        with self.assertRaisesRegex(UserError, "still due"):
            job.action_deliver()
        self.assertEqual(job.state, "ready")
        tracked = job.message_ids.tracking_value_ids.filtered(lambda t: t.field_id.name == "state")
        self.assertGreaterEqual(len(tracked), 3)

    def test_confirmation_needs_a_valid_prescription_the_lens_can_be_made_for(self):
        with self.assertRaisesRegex(ValidationError, "prescription"):
            self.job(prescription_id=False).action_confirm()
        expired = self.prescription(date=date.today() - timedelta(days=400))
        with self.assertRaisesRegex(ValidationError, "expired"):
            self.job(prescription_id=expired.id).action_confirm()
        other = self.env["res.partner"].create({"name": "Другой", "optics_consent_date": date.today()})
        theirs = self.prescription(partner_id=other.id)
        with self.assertRaisesRegex(ValidationError, "another customer"):
            self.job(prescription_id=theirs.id).action_confirm()
        contact = self.prescription(kind="contact", od_bc=8.6, os_bc=8.6, od_dia=14.2, os_dia=14.2, pd=0)
        with self.assertRaisesRegex(ValidationError, "spectacle prescription"):
            self.job(prescription_id=contact.id).action_confirm()
        with self.assertRaisesRegex(ValidationError, "cannot be made"):
            self.job(lens_id=self.weak_lens.id).action_confirm()
        with self.assertRaisesRegex(ValidationError, "lens design"):
            self.job(lens_id=False).action_confirm()
        with self.assertRaisesRegex(ValidationError, "add what the customer buys"):
            self.job(line_ids=[]).action_confirm()
        job = self.job()
        job.action_confirm()
        with self.assertRaisesRegex(ValidationError, "lab and the promised date"):
            job.action_start_production()
        self.assertEqual(job.state, "confirmed")

    def test_confirmed_lines_are_frozen(self):
        job = self.job()
        job.action_confirm()
        with self.assertRaises(UserError):
            job.line_ids[0].price_unit = 1.0

    def test_overdue_is_flagged_and_searchable(self):
        job = self.job()
        self.to_lab(job)
        self.assertFalse(job.is_overdue)
        job.promised_date = date.today() - timedelta(days=1)
        self.assertTrue(job.is_overdue)
        Job = self.env["optics.manufacturing.order"]
        self.assertIn(job, Job.search([("is_overdue", "=", True)]))
        self.assertNotIn(job, Job.search([("is_overdue", "=", False)]))
        job.action_ready()
        self.assertFalse(job.is_overdue)
        self.assertNotIn(job, Job.search([("is_overdue", "=", True)]))

    def test_a_remake_is_linked_with_its_reason_and_free(self):
        job = self.job()
        self.to_lab(job)
        with self.assertRaisesRegex(ValidationError, "reason"):
            job.action_remake("  ")
        wizard = self.env["optics.manufacturing.remake.wizard"].create(
            {"order_id": job.id, "reason": "Скол линзы в лаборатории"}
        )
        action = wizard.action_remake()
        remake = self.env["optics.manufacturing.order"].browse(action["res_id"])
        self.assertEqual(remake.remake_of_id, job)
        self.assertEqual(job.remake_ids, remake)
        self.assertEqual(remake.state, "draft")
        self.assertNotEqual(remake.name, job.name)
        self.assertEqual(remake.remake_reason, "Скол линзы в лаборатории")
        self.assertEqual(remake.line_ids.product_id, job.line_ids.product_id)
        self.assertEqual(remake.amount_total, 0.0)
        self.assertIn("Скол линзы", job.message_ids[0].body)
        with self.assertRaises(UserError):
            self.job().action_remake("draft jobs are not made yet")

    def test_ready_tells_the_customer_by_mail_and_sms(self):
        job = self.job()
        self.to_lab(job)
        job.action_ready()
        mails = job.message_ids.filtered(lambda m: m.message_type == "comment" and m.subject)
        self.assertEqual(len(mails), 1)
        self.assertIn(job.name, mails.subject)
        self.assertIn(self.patient, mails.partner_ids)
        sms = job.message_ids.filtered(lambda m: m.message_type == "sms")
        self.assertEqual(len(sms), 1)
        self.assertIn(job.name, sms.body)
        self.assertEqual(sms.notification_ids.sms_number, self.patient.phone)

    def test_cancellation_and_deletion(self):
        draft = self.job()
        draft.unlink()
        job = self.job()
        job.action_confirm()
        with self.assertRaises(UserError):
            job.unlink()
        job.action_cancel()
        self.assertEqual(job.state, "cancelled")
        self.assertEqual(job.amount_balance, 0.0)
        with self.assertRaises(UserError):
            job.action_confirm()

    def test_a_job_is_seen_by_its_store_and_its_pickup_store_only(self):
        job = self.job(user=self.optician_a)
        self.assertEqual(job.store_id, self.store_a)
        Job_b = self.env["optics.manufacturing.order"].with_user(self.optician_b)
        self.assertFalse(Job_b.search([("id", "=", job.id)]))
        with self.assertRaises(AccessError):
            job.with_user(self.optician_b).read(["name"])
        job.pickup_store_id = self.store_b
        self.assertEqual(Job_b.search([("id", "=", job.id)]), job)
        self.assertTrue(job.with_user(self.optician_b).line_ids)
        with self.assertRaises(AccessError):
            job.with_user(self.clerk).read(["name"])

    def test_the_advance_is_split_by_the_calculated_vat_rate(self):
        Tax = self.env["account.tax"]
        exempt = Tax.create(
            {"name": "Без НДС", "amount": 0, "type_tax_use": "sale", "optics_ffd_vat_code": "6"}
        )
        vat22 = Tax.create(
            {"name": "НДС 22%", "amount": 22, "type_tax_use": "sale", "optics_ffd_vat_code": "11"}
        )
        self.lens_product.taxes_id = exempt
        self.frame.taxes_id = exempt
        case = self.env["product.product"].create(
            {"name": "Футляр", "lst_price": 700.0, "taxes_id": vat22.ids}
        )
        job = self.job()
        job.line_ids = [(0, 0, {"product_id": case.id})]
        self.work.taxes_id = False
        with self.assertRaisesRegex(UserError, "Работа|FFD VAT code"):
            job._optics_advance_vat_shares()
        self.work.taxes_id = exempt
        self.assertEqual(job._optics_advance_vat_shares(), {"6": 11000.0, "12": 700.0})

    def test_the_label_and_the_warranty_slip_print(self):
        job = self.job()
        self.to_lab(job)
        Report = self.env["ir.actions.report"]
        label, _kind = Report._render_qweb_html("optics_core.action_report_job_label", job.ids)
        label = label.decode()
        self.assertIn(job.name, label)
        self.assertIn('src="data:image/png;base64,', label)  # the Code128 barcode, rendered
        slip, _kind = Report._render_qweb_html("optics_core.action_report_job_warranty", job.ids)
        slip = slip.decode()
        for text in (job.name, self.patient.name, self.lens.name, "11,000.00"):
            self.assertIn(text, slip)
        self.assertIn(job.prescription_id.od_display, slip)
