"""The access log of prescriptions (optics.prescription.access): who opened, changed or exported one.

Written only by the prescription model (under sudo); nobody can change or delete an entry through the ORM.
"""

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class OpticsPrescriptionAccess(models.Model):
    _name = "optics.prescription.access"
    _description = "Prescription access log"
    _order = "id desc"

    prescription_id = fields.Many2one("optics.prescription", ondelete="set null", index=True, readonly=True)
    prescription_name = fields.Char("Prescription", required=True, readonly=True)
    partner_id = fields.Many2one("res.partner", "Patient", ondelete="set null", readonly=True)
    store_id = fields.Many2one("stock.warehouse", ondelete="set null", index=True, readonly=True)
    user_id = fields.Many2one("res.users", required=True, index=True, readonly=True)
    action = fields.Selection(
        [
            ("read", "Opened"),
            ("create", "Created"),
            ("write", "Changed"),
            ("unlink", "Deleted"),
            ("export", "Exported"),
        ],
        required=True,
        readonly=True,
    )
    field_names = fields.Char("Fields", readonly=True, help="Technical names of the fields written.")
    at = fields.Datetime("When", required=True, default=fields.Datetime.now, readonly=True)

    @api.model
    def _log(self, prescriptions, action, fnames=()):
        """One entry per prescription, on behalf of the user of the environment (never OdooBot's sudo)."""
        if not prescriptions:
            return self.browse()
        names = ", ".join(sorted(fnames))
        return self.sudo().create(
            [
                {
                    "prescription_id": rec.id,
                    "prescription_name": rec.sudo().name or "/",
                    "partner_id": rec.sudo().partner_id.id,
                    "store_id": rec.sudo().store_id.id,
                    "user_id": self.env.uid,
                    "action": action,
                    "field_names": names,
                }
                for rec in prescriptions
            ]
        )

    def write(self, vals):
        if self:
            raise UserError(_("The access log of prescriptions cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(_("The access log of prescriptions cannot be deleted."))
