"""The till's fleet record learns since when it holds undelivered receipts (read by the price block)."""

from odoo import fields, models


class TillStatus(models.Model):
    _inherit = "pos.offline.buffer.status"

    undelivered_since = fields.Datetime(
        "Receipts undelivered since",
        readonly=True,
        help="The first heartbeat that reported queued receipts, kept until a heartbeat reports none.",
    )

    def _record_heartbeat(self, hlc, status, now_ms):
        before = self.undelivered_since
        result = super()._record_heartbeat(hlc, status, now_ms)
        if self.buffer_queued and not before:
            self.undelivered_since = self.last_heartbeat_at
        elif not self.buffer_queued and before:
            self.undelivered_since = False
        return result
