"""Products for optics: Sph/Cyl attributes with numeric powers, the VAT code (FFD tag 1199) from tax data.

Corrective lenses and frames are VAT-exempt (Tax Code art. 149 p.2 pp.1 → 1199 = 6), sunglasses and
accessories are not (22 % → 11): the rate comes from product data — the product's taxes and the code on
each tax — and an optics category states which code its products must carry.
"""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

#: FFD 1.2 tag 1199 (VAT rate) codes, ../shared/domain/ffd-1.2-and-54fz.md; 11/12 apply from 2026-01-05.
FFD_VAT_CODES = [
    ("1", "1 — VAT 20%"),
    ("2", "2 — VAT 10%"),
    ("3", "3 — VAT 20/120"),
    ("4", "4 — VAT 10/110"),
    ("5", "5 — VAT 0%"),
    ("6", "6 — not subject to VAT"),
    ("7", "7 — VAT 5%"),
    ("8", "8 — VAT 7%"),
    ("9", "9 — VAT 5/105"),
    ("10", "10 — VAT 7/107"),
    ("11", "11 — VAT 22%"),
    ("12", "12 — VAT 22/122"),
]


class AccountTax(models.Model):
    _inherit = "account.tax"

    optics_ffd_vat_code = fields.Selection(
        FFD_VAT_CODES,
        "FFD VAT code (1199)",
        help="The VAT rate code the till prints for goods sold with this tax (FFD 1.2, tag 1199).",
    )


class ProductCategory(models.Model):
    _inherit = "product.category"

    optics_ffd_vat_code = fields.Selection(
        FFD_VAT_CODES,
        "Required FFD VAT code",
        help="Products of this category must be sold with a tax carrying this code "
        "(corrective lenses and frames: 6, VAT-exempt; sunglasses: 11).",
    )


class ProductTemplate(models.Model):
    _inherit = "product.template"

    optics_ffd_vat_code = fields.Selection(
        FFD_VAT_CODES,
        "FFD VAT code",
        compute="_compute_optics_ffd_vat_code",
        help="From the product's sales taxes of the current company; empty when they carry no code.",
    )

    @api.depends("taxes_id.optics_ffd_vat_code")
    @api.depends_context("company")
    def _compute_optics_ffd_vat_code(self):
        for template in self:
            taxes = template.taxes_id.filtered(lambda t: t.company_id == self.env.company)
            codes = set(taxes.mapped("optics_ffd_vat_code"))
            template.optics_ffd_vat_code = codes.pop() if len(codes) == 1 else False

    def _optics_category_code(self):
        """The code required by the nearest category (or parent) that states one."""
        self.ensure_one()
        category = self.categ_id
        while category and not category.optics_ffd_vat_code:
            category = category.parent_id
        return category.optics_ffd_vat_code, category

    @api.constrains("taxes_id", "categ_id")
    def _check_optics_vat(self):
        labels = dict(FFD_VAT_CODES)
        for template in self:
            required, category = template._optics_category_code()
            if not required:
                continue
            wrong = template.taxes_id.filtered(lambda t, code=required: t.optics_ffd_vat_code != code)
            if wrong or not template.taxes_id:
                raise ValidationError(
                    _(
                        "%(product)s: products of the category «%(category)s» are sold with VAT code "
                        "%(code)s; set a sales tax carrying that code (taxes without it: %(taxes)s).",
                        product=template.display_name,
                        category=category.display_name,
                        code=labels[required],
                        taxes=", ".join(wrong.mapped("name")) or "—",
                    )
                )


class ProductAttribute(models.Model):
    _inherit = "product.attribute"

    optics_role = fields.Selection(
        [("sph", "Sph"), ("cyl", "Cyl")],
        "Optics role",
        help="Which lens power this attribute's values are: stock grids and matrices read it.",
    )

    _sql_constraints = [
        ("optics_role_unique", "UNIQUE(optics_role)", "Only one attribute can hold each lens power."),
    ]


class ProductAttributeValue(models.Model):
    _inherit = "product.attribute.value"

    optics_power = fields.Float("Power, D", digits=(4, 2))


class ProductProduct(models.Model):
    _inherit = "product.product"

    optics_sph = fields.Float("Sph", digits=(4, 2), compute="_compute_optics_powers", store=True, index=True)
    optics_cyl = fields.Float("Cyl", digits=(4, 2), compute="_compute_optics_powers", store=True, index=True)

    @api.depends(
        "product_template_attribute_value_ids.product_attribute_value_id.optics_power",
        "product_template_attribute_value_ids.attribute_id.optics_role",
    )
    def _compute_optics_powers(self):
        for product in self:
            powers = {"sph": 0.0, "cyl": 0.0}
            for ptav in product.product_template_attribute_value_ids:
                role = ptav.attribute_id.optics_role
                if role:
                    powers[role] = ptav.product_attribute_value_id.optics_power
            product.optics_sph, product.optics_cyl = powers["sph"], powers["cyl"]
