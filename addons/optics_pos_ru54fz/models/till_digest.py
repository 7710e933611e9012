"""The daily fleet digest for managers: the tills that need attention and yesterday's documents.

Sent by a daily cron as one e-mail to every user of the fleet group with an address (the mail queue
delivers it); the body is the QWeb template ``optics_pos_ru54fz.fleet_digest``.
"""

from datetime import timedelta

from odoo import _, api, fields, models

USER_GROUP = "optics_pos_ru54fz.group_fleet_user"
HEALTHS = ("0_green", "1_yellow", "2_red")


class TillDigest(models.AbstractModel):
    _name = "optics.till.digest"
    _description = "Daily till fleet digest"

    @api.model
    def _digest_values(self, now=None):
        now = now or fields.Datetime.now()
        tills = self.env["pos.offline.buffer.status"].search([("active", "=", True)])
        since = now - timedelta(days=1)
        docs = self.env["optics.fiscal.document"]._read_group(
            [("received_at", ">=", since)], ["till_id"], ["__count", "total:sum"]
        )
        return {
            "now": now,
            "since": since,
            "counts": {h: len(tills.filtered(lambda t, h=h: t.health == h)) for h in HEALTHS},
            "attention": tills.filtered(lambda t: t.health != "0_green"),
            "documents": [(till, count, (total or 0) / 100) for till, count, total in docs],
            "document_count": sum(count for _till, count, _total in docs),
        }

    @api.model
    def _cron_send_digest(self):
        """One digest e-mail to the fleet group; the ``mail.mail`` (empty when nobody has an address)."""
        recipients = self.env.ref(USER_GROUP).users.filtered("email").partner_id
        if not recipients:
            return self.env["mail.mail"]
        values = self._digest_values()
        body = self.env["ir.qweb"]._render("optics_pos_ru54fz.fleet_digest", values)
        red = values["counts"]["2_red"]
        subject = _(
            "Till fleet: %(red)s critical, %(yellow)s need attention",
            red=red,
            yellow=values["counts"]["1_yellow"],
        )
        return (
            self.env["mail.mail"]
            .sudo()
            .create(
                {
                    "subject": subject,
                    "body_html": body,
                    "recipient_ids": [(6, 0, recipients.ids)],
                    "email_from": self.env.company.email_formatted or self.env.user.email_formatted,
                    "auto_delete": True,
                }
            )
        )
