"""Stock grids: a realistic design (Sph −8…+6 x Cyl 0…−4 = 969 variants) created in batches past Odoo's
one-write variant limit, idempotent and extendable; the matrix reads on-hand per store."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import OpticsCase


@tagged("post_install", "-at_install")
class TestLensGrid(OpticsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.exempt = cls.env["account.tax"].create(
            {"name": "Без НДС", "amount": 0, "type_tax_use": "sale", "optics_ffd_vat_code": "6"}
        )
        cls.lens = cls.env["optics.lens"].create({"name": "Stock SV 1.56"})

    def _stock(self, variant, store, qty):
        self.env["stock.quant"]._update_available_quantity(variant, store.lot_stock_id, qty)

    def test_a_full_grid_in_batches(self):
        # Below the default limit of 1000 new variants per write, so a tighter limit proves the batches.
        self.env["ir.config_parameter"].sudo().set_param("product.dynamic_variant_limit", 300)
        result = self.lens.generate_stock_grid(-8, 6, -4, 0, taxes=self.exempt)
        self.assertEqual(result, {"created": 57 * 17, "total": 969})
        variants = self.lens.product_tmpl_id.product_variant_ids
        self.assertEqual(len(variants), 969)
        self.assertEqual(
            len(set(zip(variants.mapped("optics_sph"), variants.mapped("optics_cyl"), strict=True))), 969
        )
        self.assertEqual(self.lens.product_tmpl_id.optics_ffd_vat_code, "6")
        # Running it again creates nothing; widening the range adds only the new rows and columns.
        self.assertEqual(self.lens.generate_stock_grid(-8, 6, -4, 0), {"created": 0, "total": 969})
        self.assertEqual(
            self.lens.generate_stock_grid(-8, 6.5, -4.25, 0), {"created": 59 * 18 - 969, "total": 59 * 18}
        )

    def test_the_matrix_shows_on_hand_per_store(self):
        self.lens.generate_stock_grid(-1, 1, -1, 0, taxes=self.exempt)
        variants = self.lens.product_tmpl_id.product_variant_ids
        target = variants.filtered(lambda v: v.optics_sph == -0.5 and v.optics_cyl == -0.75)
        other = variants.filtered(lambda v: v.optics_sph == 1.0 and v.optics_cyl == 0.0)
        self._stock(target, self.store_a, 4)
        self._stock(other, self.store_b, 2)
        matrix = self.lens.with_user(self.optician_a).get_stock_matrix()
        self.assertEqual(matrix["store_id"], self.store_a.id)
        self.assertEqual(matrix["cyl"], ["0,00", "-0,25", "-0,50", "-0,75", "-1,00"])
        self.assertEqual([row["sph"] for row in matrix["rows"]][:3], ["+1,00", "+0,75", "+0,50"])
        cells = {
            (row["sph"], cyl): cell
            for row in matrix["rows"]
            for cyl, cell in zip(matrix["cyl"], row["cells"], strict=True)
        }
        self.assertEqual(cells[("-0,50", "-0,75")], [target.id, 4.0])
        self.assertEqual(cells[("+1,00", "0,00")], [other.id, 0.0])
        self.assertEqual((matrix["variants"], matrix["in_stock"], matrix["total"]), (45, 1, 4.0))
        # The other store's stock is in its own matrix, which optician A may not open.
        with self.assertRaises(UserError):
            self.lens.with_user(self.optician_a).get_stock_matrix(self.store_b.id)
        matrix_b = self.lens.with_user(self.optician_b).get_stock_matrix(self.store_b.id)
        self.assertEqual((matrix_b["in_stock"], matrix_b["total"]), (1, 2.0))

    def test_bad_ranges_are_refused(self):
        with self.assertRaises(UserError):
            self.lens.generate_stock_grid(-8.1, 6, -4, 0, taxes=self.exempt)
        with self.assertRaises(UserError):
            self.lens.generate_stock_grid(6, -8, -4, 0, taxes=self.exempt)

    def test_the_wizard_generates_and_opens_the_matrix(self):
        wizard = self.env["optics.lens.grid.wizard"].create(
            {
                "lens_id": self.lens.id,
                "sph_min": -0.5,
                "sph_max": 0,
                "cyl_min": -0.5,
                "cyl_max": 0,
                "tax_id": self.exempt.id,
            }
        )
        self.assertEqual(wizard.variant_estimate, 9)
        action = wizard.action_generate()
        self.assertEqual(action["tag"], "optics_core.lens_matrix")
        self.assertEqual(self.lens.variant_count, 9)
