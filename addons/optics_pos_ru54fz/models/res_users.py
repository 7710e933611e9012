"""``res.users``: the cashier's INN, printed on every receipt with the cashier's name (FFD tags 1021/1203)."""

import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

INN = re.compile(r"^\d{12}$")  # a person's INN has 12 digits (tag 1203)


class ResUsers(models.Model):
    _inherit = "res.users"

    optics_inn = fields.Char("Cashier INN", size=12, help="12 digits; printed on receipts as tag 1203.")

    @api.constrains("optics_inn")
    def _check_optics_inn(self):
        for user in self.filtered("optics_inn"):
            if not INN.match(user.optics_inn):
                raise ValidationError(_("A cashier's INN has 12 digits: %r", user.optics_inn))

    @property
    def SELF_READABLE_FIELDS(self):
        return [*super().SELF_READABLE_FIELDS, "optics_inn"]
