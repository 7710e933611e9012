"""``product.template``: FFD tags 1212 (payment subject) and 1214 (payment method) the till prints per line.

The VAT code (1199) comes from the product's tax (optics_core, ``account.tax.optics_ffd_vat_code``).
"""

from odoo import api, fields, models

#: Tag 1212 values used in an optics store (../shared/domain/ffd-1.2-and-54fz.md).
PAYMENT_SUBJECTS = [("1", "1 — goods"), ("4", "4 — service"), ("10", "10 — payment (advance)")]
#: Tag 1214: 4 = full settlement is every ordinary sale; advances (1..3) come with glasses jobs.
PAYMENT_METHODS = [
    ("1", "1 — prepayment 100%"),
    ("2", "2 — prepayment"),
    ("3", "3 — advance"),
    ("4", "4 — full settlement"),
]


class ProductTemplate(models.Model):
    _inherit = "product.template"

    optics_ffd_payment_subject = fields.Selection(
        PAYMENT_SUBJECTS,
        "Payment subject (1212)",
        compute="_compute_optics_ffd_payment_subject",
        store=True,
        readonly=False,
        help="Goods for stockable and consumable products, service for services.",
    )
    optics_ffd_payment_method = fields.Selection(PAYMENT_METHODS, "Payment method (1214)", default="4")

    @api.depends("detailed_type")
    def _compute_optics_ffd_payment_subject(self):
        for template in self:
            template.optics_ffd_payment_subject = "4" if template.detailed_type == "service" else "1"
