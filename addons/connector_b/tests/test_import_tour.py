"""The price list wizard in a real browser (tours in Chromium): upload, preview counts, held rows, confirm;
the run; then the manager approves the held price on the done job.

The tours' CSV (static/tests/tours/import_wizard_tour.js) has one row of each kind against the products
made here first: TOUR-NEW-1 new, TOUR-UP-1 +10 %, TOUR-HELD-1 +50 % (over the 20 % threshold), TOUR-BAD-1
rejected (price 0). Odoo turns a Chromium that does not start into a skip, so the test checks the tours'
effects — the job queued by the first, the held price applied by the second — not only that they returned.
"""

import base64

from odoo.addons.optics_pos_ru54fz.tests.quiet_http import QuietAfterBrowser
from odoo.tests import HttpCase, tagged

from .common import CONFIG, patch_runner, price_csv


@tagged("post_install", "-at_install")
class TestImportWizardTour(QuietAfterBrowser, HttpCase):
    def setUp(self):
        super().setUp()
        patch_runner(self)
        self.supplier = self.env["res.partner"].create({"name": "Поставщик тура", "is_company": True})
        self.profile = self.env["connector.import.profile"].create(
            {"name": "Прайс тура", "code": "tour_prices", "supplier_id": self.supplier.id, "config": CONFIG}
        )
        existing = price_csv(
            [
                ("TOUR-UP-1", "Оправа тура, подорожает", "", "шт", "1000.00", ""),
                ("TOUR-HELD-1", "Оправа тура, резко подорожает", "", "шт", "1000.00", ""),
            ]
        )
        first = self.env["connector.import.job"].create(
            {"profile_id": self.profile.id, "file": base64.b64encode(existing), "file_name": "first.csv"}
        )
        first.action_preview()
        first.action_confirm()
        first._run()
        self.assertEqual((first.state, first.count_applied), ("done", 2), first.error)
        self.first = first

    def price(self, sku):
        line = self.env["product.supplierinfo"].search(
            [("partner_id", "=", self.supplier.id), ("product_code", "=", sku)]
        )
        return line.price if line else None

    def test_upload_preview_confirm_run_then_approve_the_held_price(self):
        self.start_tour("/web", "connector_b_import_wizard", login="admin")

        job = self.env["connector.import.job"].search(
            [("profile_id", "=", self.profile.id), ("id", "!=", self.first.id)]
        )
        self.assertEqual(len(job), 1, "the tour created the job through the wizard")
        self.assertEqual(job.state, "queued", "the tour confirmed it")
        self.assertEqual(job.file_name, "tour_prices.csv")
        counts = (job.count_new, job.count_changed_up, job.count_held, job.count_rejected)
        self.assertEqual(counts, (1, 1, 1, 1))

        job._run()  # what the cron does (the test server has no cron thread)
        self.assertEqual(job.state, "done", job.error)
        self.assertEqual(self.price("TOUR-NEW-1"), 1500.0, "the new product is created with its price")
        self.assertEqual(self.price("TOUR-UP-1"), 1100.0)
        self.assertEqual(self.price("TOUR-HELD-1"), 1000.0, "held: today's price stays")
        self.assertIsNone(self.price("TOUR-BAD-1"))
        self.assertEqual(job.held_pending, 1)

        self.start_tour(
            f"/web#id={job.id}&model=connector.import.job&view_type=form",
            "connector_b_import_approve_held",
            login="admin",
        )
        self.env.invalidate_all()
        self.assertEqual(self.price("TOUR-HELD-1"), 1500.0, "the manager's approval applied the held price")
        self.assertEqual(job.held_pending, 0)
        held = job.log_ids.filtered(lambda line: line.key == "TOUR-HELD-1")
        self.assertEqual(held.decision, "approved")
