"""Lens designs: ranges on the grid, which prescriptions a design can be made for (after transposition),
and VAT from product data (corrective lenses exempt, sunglasses 22 %)."""

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import OpticsCase


@tagged("post_install", "-at_install")
class TestLens(OpticsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Lens = cls.env["optics.lens"]
        Tax = cls.env["account.tax"]
        cls.exempt = Tax.create(
            {"name": "Без НДС", "amount": 0, "type_tax_use": "sale", "optics_ffd_vat_code": "6"}
        )
        cls.vat22 = Tax.create(
            {"name": "НДС 22%", "amount": 22, "type_tax_use": "sale", "optics_ffd_vat_code": "11"}
        )

    def test_ranges_are_checked(self):
        with self.assertRaisesRegex(ValidationError, "шаг"):
            self.Lens.create({"name": "Bad", "sph_min": -8.1})
        with self.assertRaises(ValidationError):
            self.Lens.create({"name": "Reversed", "sph_min": 4, "sph_max": -4})
        with self.assertRaises(ValidationError):
            self.Lens.create({"name": "Two signs", "cyl_min": -2, "cyl_max": 2})
        with self.assertRaises(ValidationError):
            self.Lens.create({"name": "SV with add", "add_min": 1.0, "add_max": 3.0})
        with self.assertRaises(ValidationError):
            self.Lens.create({"name": "Progressive without add", "lens_type": "progressive"})
        lens = self.Lens.create({"name": "Prog", "lens_type": "progressive", "add_min": 0.75, "add_max": 3.5})
        self.assertEqual(lens.index, "1.50")

    def test_a_design_is_checked_against_a_prescription_in_its_cylinder_sign(self):
        lens = self.Lens.create(
            {"name": "SV -8/+6 cyl -4", "sph_min": -8, "sph_max": 6, "cyl_min": -4, "cyl_max": 0}
        )
        # +1,00 +2,00 × 90 in plus cylinder is +3,00 -2,00 × 180 in minus cylinder: within the range.
        rx = self.prescription(od_sph=1.0, od_cyl=2.0, od_axis=90, os_sph=-9.0)
        self.assertFalse(lens._optics_rx_problems(rx._optics_eye("od")))
        problems = lens._optics_rx_problems(rx._optics_eye("os"))
        self.assertEqual(len(problems), 1)
        self.assertIn("-9,00", problems[0])
        with self.assertRaisesRegex(ValidationError, "OS"):
            lens._optics_check_prescription(rx)
        progressive = self.Lens.create(
            {"name": "Prog", "lens_type": "progressive", "add_min": 0.75, "add_max": 3.0, "cyl_min": -4}
        )
        self.assertTrue(progressive._optics_rx_problems(rx._optics_eye("od")))  # no Add in the prescription
        near = self.prescription(od_add=3.5, os_add=2.0)
        self.assertIn("Add", progressive._optics_rx_problems(near._optics_eye("od"))[0])
        self.assertFalse(progressive._optics_rx_problems(near._optics_eye("os")))

    def test_vat_comes_from_product_data(self):
        Template = self.env["product.template"]
        lenses = self.env.ref("optics_core.product_category_spectacle_lenses")
        sunglasses = self.env.ref("optics_core.product_category_sunglasses")
        lens = Template.create(
            {"name": "Линза 1.5", "categ_id": lenses.id, "taxes_id": [(6, 0, self.exempt.ids)]}
        )
        self.assertEqual(lens.optics_ffd_vat_code, "6")
        shades = Template.create(
            {"name": "Ray-Ban", "categ_id": sunglasses.id, "taxes_id": [(6, 0, self.vat22.ids)]}
        )
        self.assertEqual(shades.optics_ffd_vat_code, "11")
        with self.assertRaisesRegex(ValidationError, "Очковые линзы"):
            Template.create({"name": "Wrong", "categ_id": lenses.id, "taxes_id": [(6, 0, self.vat22.ids)]})
        with self.assertRaises(ValidationError):
            Template.create({"name": "No tax", "categ_id": sunglasses.id, "taxes_id": [(5, 0, 0)]})
        with self.assertRaises(ValidationError):
            lens.categ_id = sunglasses
        # The code follows the tax's data, not the product's name or code.
        self.exempt.optics_ffd_vat_code = False
        lens.invalidate_recordset(["optics_ffd_vat_code"])
        self.assertFalse(lens.optics_ffd_vat_code)
