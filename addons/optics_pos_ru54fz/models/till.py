"""``pos.offline.buffer.status`` (the owner's plan's name): one record per till of the fleet.

What the till last told Odoo in its heartbeat (tools/heartbeat.py), its bearer token
(models/till_token.py), and the fleet verdict on-call reads on the «Офлайн-буфер» page: green, yellow or
red with the reasons. The verdict depends on time (a till goes silent, the FN's 30-day block comes
closer), so the heartbeat and a cron (``_cron_check_fleet``) keep it current; a till with no heartbeat
for ``lost_after_missed`` intervals is marked lost.
"""

from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..tools.heartbeat import heartbeat_values
from ..tools.receipt_check import MAX_POS_ID

PARAM = "optics_pos_ru54fz.%s"
#: The till sends a heartbeat every 30 s (owner's plan; adapter config ``heartbeat.interval_seconds``).
DEFAULT_HEARTBEAT_SECONDS = 30
#: A till is lost after this many intervals without a heartbeat (the issue: 3 missed heartbeats).
DEFAULT_LOST_AFTER_MISSED = 3
#: Thresholds of the fleet verdict (filters of the fleet page use the same ones).
FN_DAYS_RED = 5  # the adapter's first FN warning is at 5 days before the 30-day block
FN_DAYS_YELLOW = 10
BUFFER_PERCENT_RED = 80  # the adapter's BufferNearlyFull alert fires at 80 %
BUFFER_PERCENT_YELLOW = 50
FN_EXPIRY_DAYS_YELLOW = 30  # a month to order and fit a new FN


def _tz_get(self):
    return self.env["res.partner"]._fields["tz"].selection(self.env["res.partner"])


class TillStatus(models.Model):
    _name = "pos.offline.buffer.status"
    _description = "Till (offline buffer status)"
    _inherit = ["mail.thread", "optics.till.token.mixin"]
    _order = "health desc, name"

    name = fields.Char(required=True, tracking=True)
    pos_id = fields.Char(
        "Till ID",
        size=MAX_POS_ID,
        required=True,
        index=True,
        tracking=True,
        help="pos_id in the till's adapter config",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    store_id = fields.Many2one("stock.warehouse", check_company=True)
    tz = fields.Selection(_tz_get, string="Store time zone", required=True, default="Europe/Moscow")
    pos_config_id = fields.Many2one("pos.config", string="Point of sale", check_company=True)
    fiscal_document_ids = fields.One2many("optics.fiscal.document", "till_id", string="Fiscal documents")
    document_count = fields.Integer("Documents", compute="_compute_document_count")

    # What the last heartbeat carried (docs/api/odoo-till-contract.md, heartbeat "status").
    last_heartbeat_at = fields.Datetime("Last heartbeat", readonly=True)
    last_hlc = fields.Char("Last HLC", readonly=True)
    hlc_drift_ms = fields.Integer(
        "HLC drift, ms", readonly=True, help="Till HLC wall clock minus Odoo's clock"
    )
    buffer_queued = fields.Integer("Queued receipts", readonly=True)
    buffer_capacity = fields.Integer("Buffer capacity", readonly=True)
    buffer_percent = fields.Float("Buffer full, %", readonly=True, digits=(5, 1))
    dlq_size = fields.Integer("DLQ size", readonly=True)
    network_state = fields.Selection(
        [("online", "Online"), ("degraded", "Degraded"), ("offline", "Offline"), ("unknown", "Unknown")],
        readonly=True,
    )
    breaker_state = fields.Selection(
        [("CLOSED", "Closed"), ("HALF_OPEN", "Half-open"), ("OPEN", "Open")],
        string="Circuit breaker",
        readonly=True,
    )
    kkt_state = fields.Char("KKT state", readonly=True)
    fn_number = fields.Char("FN number", readonly=True, tracking=True)
    fn_unconfirmed = fields.Integer("FN documents not confirmed by the OFD", readonly=True)
    fn_oldest_unconfirmed_at = fields.Datetime("Oldest unconfirmed FN document", readonly=True)
    fn_block_at = fields.Datetime(
        "FN blocks at",
        readonly=True,
        help="When the FN stops signing unless the OFD confirms its backlog (30 days)",
    )
    fn_days_left = fields.Float("Days before the FN block", compute="_compute_fn_days_left", digits=(6, 1))
    fn_expires_on = fields.Date("FN expires on", readonly=True)
    adapter_version = fields.Char("Adapter version", readonly=True)
    last_status = fields.Json("Last heartbeat status", readonly=True)

    # The fleet verdict (kept current by the heartbeat and the cron).
    connection_state = fields.Selection(
        [("waiting", "Never seen"), ("online", "Sending heartbeats"), ("lost", "Lost")],
        default="waiting",
        required=True,
        readonly=True,
        tracking=True,
    )
    lost_since = fields.Datetime(readonly=True)
    health = fields.Selection(
        [("0_green", "OK"), ("1_yellow", "Attention"), ("2_red", "Critical")],
        default="1_yellow",
        required=True,
        readonly=True,
        tracking=True,
    )
    health_reasons = fields.Text(readonly=True)
    color = fields.Integer(compute="_compute_color")

    _sql_constraints = [("pos_id_unique", "UNIQUE(pos_id)", "A till with this ID already exists.")]

    @api.constrains("pos_id")
    def _check_pos_id(self):
        for till in self:
            if not till.pos_id or not till.pos_id.strip() or till.pos_id != till.pos_id.strip():
                raise ValidationError(_("The till ID must not be empty or start or end with spaces."))

    def _compute_document_count(self):
        counts = dict(
            self.env["optics.fiscal.document"]._read_group(
                [("till_id", "in", self.ids)], ["till_id"], ["__count"]
            )
        )
        for till in self:
            till.document_count = counts.get(till, 0)

    @api.depends("fn_block_at")
    def _compute_fn_days_left(self):
        now = fields.Datetime.now()
        for till in self:
            till.fn_days_left = (till.fn_block_at - now).total_seconds() / 86400 if till.fn_block_at else 0.0

    @api.depends("health")
    def _compute_color(self):
        colors = {"0_green": 10, "1_yellow": 3, "2_red": 1}  # kanban color indexes: green, yellow, red
        for till in self:
            till.color = colors.get(till.health, 0)

    # --- the verdict ----------------------------------------------------------------------------------

    @api.model
    def _param(self, key, default):
        return int(self.env["ir.config_parameter"].sudo().get_param(PARAM % key, default))

    def _lost_after(self):
        seconds = self._param("heartbeat_interval_seconds", DEFAULT_HEARTBEAT_SECONDS)
        return timedelta(seconds=seconds * self._param("lost_after_missed", DEFAULT_LOST_AFTER_MISSED))

    def _assess(self, now):
        """(health, reasons) of one till at ``now``; the red reasons first."""
        red, yellow = [], []
        if self.connection_state == "lost":
            red.append(_("no heartbeat since %s", self.last_heartbeat_at))
        elif self.connection_state == "waiting":
            yellow.append(_("no heartbeat received yet"))
        if self.fn_block_at:
            days = (self.fn_block_at - now).total_seconds() / 86400
            if days < FN_DAYS_YELLOW:
                (red if days < FN_DAYS_RED else yellow).append(
                    _("%(days).1f days before the FN blocks: %(count)s documents unconfirmed by the OFD",
                      days=days, count=self.fn_unconfirmed)
                )  # fmt: skip
        if self.buffer_percent >= BUFFER_PERCENT_YELLOW:
            (red if self.buffer_percent >= BUFFER_PERCENT_RED else yellow).append(
                _("buffer %.0f %% full", self.buffer_percent)
            )
        if self.dlq_size:
            yellow.append(_("%s receipts in the DLQ", self.dlq_size))
        if self.kkt_state and self.kkt_state not in ("ok", "unknown"):
            red.append(_("KKT %s", self.kkt_state))
        if self.breaker_state and self.breaker_state != "CLOSED":
            yellow.append(_("circuit breaker %s", self.breaker_state))
        if self.network_state in ("degraded", "offline"):
            yellow.append(_("network %s", self.network_state))
        if self.fn_expires_on and (self.fn_expires_on - now.date()).days < FN_EXPIRY_DAYS_YELLOW:
            yellow.append(_("FN expires on %s", self.fn_expires_on))
        health = "2_red" if red else ("1_yellow" if yellow else "0_green")
        return health, "\n".join(red + yellow)

    def _refresh_health(self, now=None):
        """Write the verdict where it changed (a write would bump every till's record every minute)."""
        now = now or fields.Datetime.now()
        for till in self:
            health, reasons = till._assess(now)
            if (health, reasons or False) != (till.health, till.health_reasons or False):
                till.write({"health": health, "health_reasons": reasons})

    @api.model
    def _cron_check_fleet(self):
        """Mark silent tills lost, then refresh every till's verdict (time moves the FN block closer)."""
        now = fields.Datetime.now()
        silent = self.search(
            [("connection_state", "=", "online"), ("last_heartbeat_at", "<", now - self._lost_after())]
        )
        silent.write({"connection_state": "lost", "lost_since": now})
        self.search([("active", "=", True)])._refresh_health(now)  # the fleet: tens of tills
        return len(silent)

    def _record_heartbeat(self, hlc, status, now_ms):
        """Store one heartbeat (the API checked its envelope); a lost till is back."""
        self.ensure_one()
        now = fields.Datetime.now()
        values = heartbeat_values(hlc, status, now, now_ms, self.tz or "UTC")
        if self.connection_state != "online":
            values.update(connection_state="online", lost_since=False)
        self.write(values)
        self._refresh_health(now)

    def action_view_documents(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("optics_pos_ru54fz.action_fiscal_document")
        action["domain"] = [("till_id", "=", self.id)]
        action["context"] = {"default_till_id": self.id}
        return action
