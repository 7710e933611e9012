"""Wizard: remake a glasses job (the lab broke a lens, the customer cannot see well) with its reason."""

from odoo import fields, models


class OpticsManufacturingRemakeWizard(models.TransientModel):
    _name = "optics.manufacturing.remake.wizard"
    _description = "Remake a glasses job"

    order_id = fields.Many2one("optics.manufacturing.order", required=True, ondelete="cascade")
    reason = fields.Text(required=True, help="Why the job is redone: it is kept on both jobs.")

    def action_remake(self):
        self.ensure_one()
        remake = self.order_id.action_remake(self.reason)
        return {
            "type": "ir.actions.act_window",
            "res_model": remake._name,
            "res_id": remake.id,
            "view_mode": "form",
            "target": "current",
        }
