"""Vendor lines: the supplier's own stock from its price list or lens-stock grid (informational)."""

from odoo import fields, models


class SupplierInfo(models.Model):
    _inherit = "product.supplierinfo"

    connector_supplier_qty = fields.Float(
        "Supplier stock", digits="Product Unit of Measure", help="As the supplier's last price list stated."
    )
    connector_job_id = fields.Many2one(
        "connector.import.job", "Last import", readonly=True, index="btree_not_null"
    )
