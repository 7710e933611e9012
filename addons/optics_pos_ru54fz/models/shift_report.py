"""``optics.pos.shift.report``: a Z report (shift close) the till's FN signed, as the POS received it.

The POS closes shifts on the till even with Odoo unreachable; it keeps the adapter's answer and sends it
here when Odoo answers again (``pos.session.optics_record_shift_report``). The FFD fields are those of the
shift-close report: shift number (1038), FD number, unsent documents (1097) and the first one's date (1098).
"""

from odoo import fields, models

from .bigint import BigInteger


class ShiftReport(models.Model):
    _name = "optics.pos.shift.report"
    _description = "Z report of a till's shift"
    _order = "closed_at desc, id desc"

    session_id = fields.Many2one("pos.session", required=True, readonly=True, index=True, ondelete="cascade")
    config_id = fields.Many2one(related="session_id.config_id", store=True)
    company_id = fields.Many2one(related="session_id.company_id", store=True)
    currency_id = fields.Many2one(related="session_id.currency_id")
    pos_id = fields.Char("Till ID", required=True, readonly=True)
    shift_number = fields.Integer("Shift (1038)", required=True, readonly=True)
    fd_number = BigInteger("FD number", required=True, readonly=True)
    closed_at = fields.Datetime("Closed", readonly=True)
    unsent_count = fields.Integer("Unsent to the OFD (1097)", readonly=True)
    first_unsent_at = fields.Datetime("First unsent (1098)", readonly=True)
    receipts = fields.Integer(readonly=True)
    sales = fields.Monetary(readonly=True)
    refunds = fields.Monetary(readonly=True)
    cash = fields.Monetary(readonly=True)
    electronic = fields.Monetary(readonly=True)

    _sql_constraints = [
        (
            "fd_unique",
            "UNIQUE(pos_id, fd_number)",
            "This Z report is already recorded.",
        )
    ]
