"""Patients: the consent to processing health data (152-FZ art. 10) and their prescriptions."""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResPartner(models.Model):
    _inherit = "res.partner"

    optics_consent_date = fields.Date(
        string="Consent to processing health data",
        help="Date the patient signed the consent to processing their health data (152-FZ, art. 10). "
        "Without it no prescription can be recorded for them.",
    )
    optics_consent_document = fields.Char(
        string="Consent document", help="Number or reference of the signed consent form."
    )
    optics_consent_withdrawn_date = fields.Date(
        string="Consent withdrawn",
        help="Date the patient withdrew the consent; no new prescription can be recorded from then on.",
    )
    # Only opticians may even count prescriptions: other users (cashiers, accountants) read partners with
    # every field now and then, and must not hit the prescriptions' access rules.
    optics_prescription_ids = fields.One2many(
        "optics.prescription", "partner_id", string="Prescriptions", groups="optics_core.group_optician"
    )
    optics_prescription_count = fields.Integer(
        compute="_compute_optics_prescription_count", groups="optics_core.group_optician"
    )

    @api.depends("optics_prescription_ids")
    def _compute_optics_prescription_count(self):
        # Counts only what the user's record rules let them see (the stores they work in).
        groups = self.env["optics.prescription"]._read_group(
            [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.optics_prescription_count = counts.get(partner.id, 0)

    @api.constrains("optics_consent_date", "optics_consent_withdrawn_date")
    def _check_optics_consent_dates(self):
        for partner in self:
            if partner.optics_consent_withdrawn_date and not partner.optics_consent_date:
                raise ValidationError(_("A consent cannot be withdrawn before it was given."))
            if (
                partner.optics_consent_withdrawn_date
                and partner.optics_consent_withdrawn_date < partner.optics_consent_date
            ):
                raise ValidationError(_("The consent's withdrawal date is before the date it was given."))
            if partner.optics_consent_date and partner.optics_consent_date > fields.Date.context_today(
                partner
            ):
                raise ValidationError(_("The consent date cannot be in the future."))

    def _optics_consent_valid_on(self, day):
        """True when the patient's consent covers ``day`` (given on or before it, not withdrawn by then)."""
        self.ensure_one()
        if not self.optics_consent_date or self.optics_consent_date > day:
            return False
        return not (self.optics_consent_withdrawn_date and self.optics_consent_withdrawn_date <= day)

    def action_optics_prescriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("optics_core.action_prescription")
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action
