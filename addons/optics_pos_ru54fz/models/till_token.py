"""Till bearer tokens: issued once, stored only as a SHA-256 hash, rotated with an overlap.

A token is 32 random bytes (``secrets.token_urlsafe``), so a fast hash is enough to make the stored value
useless to a reader of the database, and it keeps the lookup an index scan. Issuing a new token shows it
once (``optics.till.token.reveal``); the previous one keeps working for
``optics_pos_ru54fz.token_overlap_minutes`` so deliveries already in flight are not refused while an
engineer updates the till's secret. Only the fleet administrators see or touch any of it.
"""

import hashlib
import secrets
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

#: Minutes the previous token still works after a new one is issued (one Ansible run on every till of a
#: store, plus the till's retry backoff, fits in an hour).
DEFAULT_TOKEN_OVERLAP_MINUTES = 60
TOKEN_BYTES = 32
ADMIN_GROUP = "optics_pos_ru54fz.group_fleet_admin"


def token_hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TillTokenMixin(models.AbstractModel):
    _name = "optics.till.token.mixin"
    _description = "Till bearer token"

    token_hash = fields.Char(readonly=True, copy=False, index=True, groups=ADMIN_GROUP)
    token_issued_at = fields.Datetime(readonly=True, copy=False, groups=ADMIN_GROUP)
    previous_token_hash = fields.Char(readonly=True, copy=False, index=True, groups=ADMIN_GROUP)
    previous_token_valid_until = fields.Datetime(readonly=True, copy=False, groups=ADMIN_GROUP)
    has_token = fields.Boolean(compute="_compute_has_token")

    def _compute_has_token(self):
        for till in self:
            till.has_token = bool(till.sudo().token_hash)

    def _issue_token(self):
        """A new token for this till (returned in clear, never stored); the old one enters its overlap."""
        self.ensure_one()
        if not self.env.su and not self.env.user.has_group(ADMIN_GROUP):
            raise AccessError(_("Only fleet administrators may issue till tokens."))
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = fields.Datetime.now()
        overlap = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("optics_pos_ru54fz.token_overlap_minutes", DEFAULT_TOKEN_OVERLAP_MINUTES)
        )
        till = self.sudo()
        till.write(
            {
                "previous_token_hash": till.token_hash,
                "previous_token_valid_until": now + timedelta(minutes=overlap) if till.token_hash else False,
                "token_hash": token_hash(token),
                "token_issued_at": now,
            }
        )
        self.message_post(body=_("A new till token was issued by %s.", self.env.user.name))
        return token

    def action_issue_token(self):
        """Button: issue a token and show it once in a dialog (the clear value lives only in its context)."""
        token = self._issue_token()
        reveal = self.env["optics.till.token.reveal"].create({"till_id": self.id})
        return {
            "type": "ir.actions.act_window",
            "name": _("Till token"),
            "res_model": "optics.till.token.reveal",
            "res_id": reveal.id,
            "view_mode": "form",
            "target": "new",
            "context": {"optics_clear_token": token},
        }

    def action_revoke_tokens(self):
        """Button: the till's current and previous tokens stop working at once (a stolen till)."""
        if not self.env.user.has_group(ADMIN_GROUP):
            raise AccessError(_("Only fleet administrators may revoke till tokens."))
        self.sudo().write(
            {"token_hash": False, "previous_token_hash": False, "previous_token_valid_until": False}
        )
        for till in self:
            till.message_post(body=_("The till's tokens were revoked by %s.", self.env.user.name))

    @api.model
    def _authenticate_token(self, token):
        """The till a bearer token belongs to (the current one, or the previous within its overlap)."""
        if not token:
            return self.browse()
        digest = token_hash(token)
        tills = self.sudo().with_context(active_test=False)
        till = tills.search([("token_hash", "=", digest)], limit=1)
        if not till:
            till = tills.search(
                [
                    ("previous_token_hash", "=", digest),
                    ("previous_token_valid_until", ">", fields.Datetime.now()),
                ],
                limit=1,
            )
        return till.filtered("active")
