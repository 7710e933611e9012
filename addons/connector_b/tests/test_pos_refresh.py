"""Imported prices reach the POS on its next data load: new products, retail prices, pricelist items."""

import base64

from odoo.addons.point_of_sale.tests.common import TestPoSCommon
from odoo.tests import tagged

from .common import CONFIG, generated_rows, patch_runner, price_csv


@tagged("post_install", "-at_install")
class TestPosSeesImportedPrices(TestPoSCommon):
    def setUp(self):
        super().setUp()
        patch_runner(self)
        self.config = self.basic_config
        self.open_new_session()
        supplier = self.env["res.partner"].create({"name": "Поставщик для кассы", "is_company": True})
        self.profile = self.env["connector.import.profile"].create(
            {"name": "Прайс для кассы", "code": "pos_refresh", "supplier_id": supplier.id, "config": CONFIG}
        )
        self.rows = generated_rows(3, prefix="POS")

    def run_import(self, rows):
        job = self.env["connector.import.job"].create(
            {"profile_id": self.profile.id, "file": base64.b64encode(price_csv(rows)), "file_name": "p.csv"}
        )
        job.action_preview()
        job.action_confirm()
        job._run()
        self.assertEqual(job.state, "done", job.error)
        return job

    def loaded_prices(self):
        session = self.pos_session
        products = session._get_pos_ui_product_product(session._loader_params_product_product())
        return {
            p["default_code"]: p["lst_price"]
            for p in products
            if (p["default_code"] or "").startswith("POS-")
        }

    def test_new_products_and_changed_prices_are_in_the_next_load(self):
        self.run_import(self.rows)
        self.assertEqual(
            self.loaded_prices(), {"POS-000000": 2090.0, "POS-000001": 2090.0, "POS-000002": 2090.0}
        )
        self.run_import([(*r[:4], f"{float(r[4]) * 1.15:.2f}", r[5]) for r in self.rows])
        self.assertEqual(self.loaded_prices()["POS-000000"], 2390.0)  # 1150.00 x 2 = 2300 → 2390

    def test_retail_prices_on_the_store_pricelist_are_in_the_next_load(self):
        self.profile.pricelist_id = self.config.pricelist_id
        job = self.run_import(self.rows)
        templates = self.env["connector.import.log"].search([("job_id", "=", job.id)]).product_tmpl_id
        # What the POS asks for the products it loaded (PosStore's pricelist items by product).
        items = self.pos_session.get_pos_ui_product_pricelist_item_by_product(
            templates.ids, templates.product_variant_ids.ids
        )
        self.assertEqual(sorted(i["fixed_price"] for i in items), [2090.0, 2090.0, 2090.0])
        self.assertEqual({i["pricelist_id"][0] for i in items}, {self.config.pricelist_id.id})
