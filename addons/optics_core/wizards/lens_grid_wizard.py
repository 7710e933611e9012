"""Wizard: generate a lens design's stock grid (one variant per Sph x Cyl) and open its matrix."""

from odoo import _, api, fields, models


class OpticsLensGridWizard(models.TransientModel):
    _name = "optics.lens.grid.wizard"
    _description = "Generate a lens stock grid"

    lens_id = fields.Many2one("optics.lens", required=True, ondelete="cascade")
    has_product = fields.Boolean(compute="_compute_has_product")
    sph_min = fields.Float("Sph from", digits=(4, 2), required=True)
    sph_max = fields.Float("Sph to", digits=(4, 2), required=True)
    cyl_min = fields.Float("Cyl from", digits=(4, 2), required=True)
    cyl_max = fields.Float("Cyl to", digits=(4, 2), required=True)
    tax_id = fields.Many2one(
        "account.tax",
        "Sales tax",
        domain="[('type_tax_use', '=', 'sale'), ('optics_ffd_vat_code', '!=', False)]",
        help="Tax of the new stock product; corrective lenses are VAT-exempt (FFD code 6).",
    )
    variant_estimate = fields.Integer("Variants", compute="_compute_variant_estimate")

    @api.depends("lens_id.product_tmpl_id")
    def _compute_has_product(self):
        for wizard in self:
            wizard.has_product = bool(wizard.lens_id.product_tmpl_id)

    @api.depends("sph_min", "sph_max", "cyl_min", "cyl_max")
    def _compute_variant_estimate(self):
        for wizard in self:
            rows = round((wizard.sph_max - wizard.sph_min) / 0.25) + 1
            cols = round((wizard.cyl_max - wizard.cyl_min) / 0.25) + 1
            wizard.variant_estimate = max(rows, 0) * max(cols, 0)

    def action_generate(self):
        self.ensure_one()
        taxes = self.tax_id if self.tax_id else None
        result = self.lens_id.generate_stock_grid(
            self.sph_min, self.sph_max, self.cyl_min, self.cyl_max, taxes=taxes
        )
        action = self.lens_id.action_open_stock_matrix()
        action["params"]["message"] = _(
            "Created %(created)s variants; the grid holds %(total)s.",
            created=result["created"],
            total=result["total"],
        )
        return action
