"""The stores (warehouses) a user works in: the record rules on health data and stock matrices use them."""

from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    optics_store_ids = fields.Many2many(
        "stock.warehouse",
        "optics_store_user_rel",
        "user_id",
        "warehouse_id",
        string="Stores",
        help="Stores whose prescriptions this optician or manager may read; a store is its warehouse.",
    )

    def write(self, vals):
        res = super().write(vals)
        if "optics_store_ids" in vals:
            # Record rules are cached per user; a changed store list must take effect at once.
            self.env.registry.clear_cache()
        return res

    def _optics_default_store(self):
        """The store new prescriptions of this user belong to: the first of their stores."""
        return self.optics_store_ids[:1]
