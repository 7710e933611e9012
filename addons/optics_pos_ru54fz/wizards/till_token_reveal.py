"""``optics.till.token.reveal``: the dialog that shows a newly issued till token, once.

The clear token never reaches the database: it travels in the dialog action's context and the ``token``
field is computed from it, so closing the dialog loses it for good (issue another one if it was not
copied).
"""

from odoo import api, fields, models


class TillTokenReveal(models.TransientModel):
    _name = "optics.till.token.reveal"
    _description = "New till token"

    till_id = fields.Many2one("pos.offline.buffer.status", required=True, readonly=True, ondelete="cascade")
    pos_id = fields.Char(related="till_id.pos_id")
    token = fields.Char(compute="_compute_token", help="Shown once; Odoo keeps only its hash")

    @api.depends_context("optics_clear_token")
    def _compute_token(self):
        for reveal in self:
            reveal.token = self.env.context.get("optics_clear_token") or False
