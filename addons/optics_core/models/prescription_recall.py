"""Recalls from prescriptions: when the next eye exam and the contact-lens replacement fall due.

A daily cron lists the due recalls as activities for the store where the prescription was written
(assigned to its manager), once per recall; only a patient's newest prescription of each kind recalls.
"""

from datetime import timedelta

from odoo import _, api, fields, models

#: How many days before the due date a recall appears for the store (config parameter overrides): two
#: weeks, time to phone the patient and book the exam or order the lenses.
RECALL_LOOKAHEAD_DAYS = 14
LOOKAHEAD_PARAM = "optics_core.recall_lookahead_days"


class OpticsPrescriptionRecall(models.Model):
    _inherit = "optics.prescription"

    next_exam_date = fields.Date(
        "Next eye exam",
        compute="_compute_next_exam_date",
        store=True,
        readonly=False,
        help="When the patient should be examined again: the end of the prescription's validity.",
    )
    cl_supply_days = fields.Integer(
        "Lens supply, days",
        help="Contact lenses: how long the lenses bought with this prescription last (e.g. 90 for three "
        "monthly pairs); the replacement recall follows from it.",
    )
    cl_replacement_date = fields.Date(
        "Lens replacement", compute="_compute_cl_replacement_date", store=True, readonly=False
    )
    exam_recalled = fields.Boolean(copy=False, help="The exam recall activity has been created.")
    cl_recalled = fields.Boolean(copy=False, help="The replacement recall activity has been created.")

    @api.depends("expiry_date")
    def _compute_next_exam_date(self):
        for rec in self:
            rec.next_exam_date = rec.expiry_date

    @api.depends("kind", "date", "cl_supply_days")
    def _compute_cl_replacement_date(self):
        for rec in self:
            contact = rec.kind == "contact" and rec.date and rec.cl_supply_days > 0
            rec.cl_replacement_date = rec.date + timedelta(days=rec.cl_supply_days) if contact else False

    def write(self, vals):
        # A moved due date is a new recall.
        if "next_exam_date" in vals or "expiry_date" in vals:
            vals = {**vals, "exam_recalled": False}
        if {"cl_replacement_date", "cl_supply_days", "date", "kind"} & set(vals):
            vals = {**vals, "cl_recalled": False}
        return super().write(vals)

    @api.model
    def _cron_optics_recalls(self):
        """Create the recall activities due within the lookahead; return how many were created."""
        lookahead = int(
            self.env["ir.config_parameter"].sudo().get_param(LOOKAHEAD_PARAM, RECALL_LOOKAHEAD_DAYS)
        )
        horizon = fields.Date.context_today(self) + timedelta(days=lookahead)
        model = self.sudo()
        created = 0
        kinds = (
            ("next_exam_date", "exam_recalled", _("Eye exam due")),
            ("cl_replacement_date", "cl_recalled", _("Contact lens replacement due")),
        )
        for date_field, flag, summary in kinds:
            due = model.search([(date_field, "<=", horizon), (flag, "=", False)])
            for rec in due:
                if not rec._optics_is_newest():
                    rec[flag] = True  # superseded by a newer prescription: never recalled
                    continue
                rec._optics_recall_activity(summary, rec[date_field])
                rec[flag] = True
                created += 1
        return created

    def _optics_is_newest(self):
        self.ensure_one()
        newer = self.search_count(
            [
                ("partner_id", "=", self.partner_id.id),
                ("kind", "=", self.kind),
                ("id", "!=", self.id),
                "|",
                ("date", ">", self.date),
                "&",
                ("date", "=", self.date),
                ("id", ">", self.id),
            ]
        )
        return not newer

    def _optics_recall_activity(self, summary, due_date):
        """One activity on the patient for the store's manager (else anyone of the store)."""
        self.ensure_one()
        staff = self.env["res.users"].search([("optics_store_ids", "in", self.store_id.ids)])
        managers = staff.filtered(lambda u: u.has_group("optics_core.group_store_manager"))
        user = managers[:1] or staff[:1] or self.create_uid
        self.partner_id.activity_schedule(
            "optics_core.mail_activity_type_recall",
            date_deadline=due_date,
            summary=summary,
            note=_(
                "%(store)s: %(what)s on %(date)s (prescription %(rx)s).",
                store=self.store_id.name,
                what=summary,
                date=due_date,
                rx=self.name,
            ),
            user_id=user.id,
        )
