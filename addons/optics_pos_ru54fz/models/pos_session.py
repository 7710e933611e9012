"""``pos.session``: what the POS loads for fiscalization, and the Z reports the till printed for it.

The POS builds each receipt itself (it must print with Odoo unreachable): the VAT code (1199) of every tax,
the payment subject and method (1212/1214) of every product and the cashier's INN (1203) are loaded here.
"""

import logging
from datetime import datetime

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

REPORT_KEYS = ("pos_id", "shift_number", "fd_number")
MONEY_KEYS = ("sales", "refunds", "cash", "electronic")


def _iso_to_utc(value, tz_name):
    """An ISO datetime of the adapter → naive UTC. The KKT keeps the store's local time: a value without an
    offset is read in the till's time zone."""
    if not value:
        return False
    moment = datetime.fromisoformat(value)
    if not moment.tzinfo:
        moment = pytz.timezone(tz_name).localize(moment)
    return moment.astimezone(pytz.utc).replace(tzinfo=None)


class PosSession(models.Model):
    # optics.pos.login.numbers (pos_session_offline.py): order names stay unique when the POS reopens offline.
    _name = "pos.session"
    _inherit = ["pos.session", "optics.pos.login.numbers"]

    optics_shift_report_ids = fields.One2many(
        "optics.pos.shift.report", "session_id", string="Z reports", readonly=True
    )

    def _loader_params_account_tax(self):
        params = super()._loader_params_account_tax()
        params["search_params"]["fields"].append("optics_ffd_vat_code")
        return params

    def _loader_params_product_product(self):
        params = super()._loader_params_product_product()
        params["search_params"]["fields"] += ["optics_ffd_payment_subject", "optics_ffd_payment_method"]
        return params

    def _loader_params_res_users(self):
        params = super()._loader_params_res_users()
        params["search_params"]["fields"].append("optics_inn")
        return params

    @api.model
    def optics_record_shift_report(self, session_id, report):
        """Record a Z report the POS received from the till (idempotent: the same FD is recorded once)."""
        session = self.browse(session_id).exists()
        if not session:
            raise UserError(_("POS session %s does not exist; the Z report is kept on the till.", session_id))
        missing = [key for key in REPORT_KEYS if report.get(key) in (None, "")]
        if missing:
            raise UserError(_("The Z report lacks %s.", ", ".join(missing)))
        Report = self.env["optics.pos.shift.report"]
        known = Report.search(
            [("pos_id", "=", report["pos_id"]), ("fd_number", "=", int(report["fd_number"]))]
        )
        if known:
            return known.id
        totals = report.get("totals") or {}
        till = (
            self.env["pos.offline.buffer.status"].sudo().search([("pos_id", "=", report["pos_id"])], limit=1)
        )
        tz_name = till.tz or "Europe/Moscow"
        values = {
            "session_id": session.id,
            "pos_id": report["pos_id"],
            "shift_number": int(report["shift_number"]),
            "fd_number": int(report["fd_number"]),
            "closed_at": _iso_to_utc(report.get("closed_at"), tz_name),
            "unsent_count": int(report.get("unsent_count") or 0),
            "first_unsent_at": _iso_to_utc(report.get("first_unsent_at"), tz_name),
            "receipts": int(totals.get("receipts") or 0),
        }
        values.update({key: float(totals.get(key) or 0) for key in MONEY_KEYS})
        _logger.info("Z report of %s shift %s recorded", report["pos_id"], report["shift_number"])
        return Report.create(values).id
