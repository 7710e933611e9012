"""``pos.order`` joined to the fiscal documents of the tills by the order's key (``access_token``).

The POS gives every order a UUID when the cashier starts it (``access_token``) and sends it to the till as
the receipt's ``Idempotency-Key``; the till delivers it with the fiscal document. The key is unique here
(a partial unique index), and an order whose key Odoo already holds is never inserted a second time by
``create_from_ui`` — Odoo's own check compares reference and products and misses a changed quantity. If
Odoo built the order from the document first (models/order_from_document.py), the POS's late copy is
merged into it. Odoo trusts the totals the POS sends; they are checked here against lines and payments.
"""

import logging
from urllib.parse import quote

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare

from ..tools.fiscal_qr import FISCAL_FIELDS, fiscal_values
from .bigint import BigInteger
from .fiscal_document import ConcurrentDelivery

_logger = logging.getLogger(__name__)
INDEX = "pos_order_access_token_unique"  # the name in init()'s CREATE INDEX


class PosOrder(models.Model):
    _inherit = "pos.order"

    fiscal_document_ids = fields.One2many(
        "optics.fiscal.document", "pos_order_id", string="Fiscal documents", readonly=True
    )
    till_origin = fields.Selection(
        [
            ("created_from_till", "Built from the till's document"),
            ("merged", "Built from the till, POS copy merged"),
        ],
        readonly=True,
        index=True,
        copy=False,
    )
    refund_of_order_id = fields.Many2one("pos.order", string="Refund of", readonly=True, copy=False)
    review_reason = fields.Text(readonly=True, copy=False)
    needs_review = fields.Boolean(compute="_compute_needs_review", store=True, index=True)
    # What the till answered the POS at payment (status, receipt_id, fiscal_doc); the FN document the till
    # delivers later (fiscal_document_ids) is the truth and replaces it in the fields below.
    optics_fiscal_answer = fields.Json("Till's answer at payment", readonly=True, copy=False)
    optics_buyer_contact = fields.Char("E-receipt to (1008)", readonly=True, copy=False)
    fiscal_status = fields.Selection(
        [("printed", "Printed"), ("buffered", "Waiting for the KKT")],
        "Fiscal status",
        compute="_compute_fiscal",
        store=True,
        index=True,
    )
    fiscal_receipt_id = fields.Char("Till receipt ID", compute="_compute_fiscal", store=True, index=True)
    fiscal_fn_number = fields.Char("FN", compute="_compute_fiscal", store=True)
    fiscal_fd_number = BigInteger("FD", compute="_compute_fiscal", store=True)
    fiscal_sign = BigInteger("FP", compute="_compute_fiscal", store=True)
    fiscal_issued_at = fields.Char("Signed (KKT time)", compute="_compute_fiscal", store=True)
    fiscal_total = fields.Char("Fiscal total", compute="_compute_fiscal", store=True)
    fiscal_qr = fields.Char("FNS check QR", compute="_compute_fiscal", store=True)
    fiscal_qr_image_url = fields.Char("QR image", compute="_compute_fiscal_qr_image_url")
    optics_e_receipt_sent = fields.Boolean("E-receipt mailed", readonly=True, copy=False)
    optics_job_ref = fields.Char(
        "Glasses job",
        readonly=True,
        index=True,
        copy=False,
        help="The job this order took an advance for or handed over",
    )

    @api.depends("review_reason")
    def _compute_needs_review(self):
        for order in self:
            order.needs_review = bool(order.review_reason)

    @api.depends("optics_fiscal_answer", "fiscal_document_ids.fd", "fiscal_document_ids.kind")
    def _compute_fiscal(self):
        for order in self:
            values = fiscal_values(order.optics_fiscal_answer, order.fiscal_document_ids)
            order.update({name: values.get(name, False) for name in FISCAL_FIELDS})

    @api.depends("fiscal_qr")
    def _compute_fiscal_qr_image_url(self):
        for order in self:
            qr = order.fiscal_qr
            order.fiscal_qr_image_url = (
                qr and f"{order.get_base_url()}/report/barcode/QR/{quote(qr, safe='')}"
            )

    @api.model
    def _order_fields(self, ui_order):
        values = super()._order_fields(ui_order)
        answer = ui_order.get("optics_fiscal")
        if answer:
            values["optics_fiscal_answer"] = answer
            values["optics_buyer_contact"] = ui_order.get("optics_buyer_contact") or False
        values["optics_job_ref"] = ui_order.get("optics_job_ref") or False
        return values

    def _export_for_ui(self, order):
        values = super()._export_for_ui(order)
        values["optics_fiscal"] = order.optics_fiscal_answer or False
        values["fiscal_receipt_id"] = order.fiscal_receipt_id or False
        values["optics_job_ref"] = order.optics_job_ref or False
        return values

    def _optics_send_e_receipts(self):
        """Mail the e-receipt (tag 1008 was an e-mail) once the order's fiscal fields are known: at once for
        a printed receipt, when the till delivers the FN document for one that waited for the KKT."""
        template = self.env.ref("optics_pos_ru54fz.mail_template_e_receipt", raise_if_not_found=False)
        due = self.filtered(
            lambda o: (
                o.optics_buyer_contact
                and "@" in o.optics_buyer_contact
                and o.fiscal_qr
                and not o.optics_e_receipt_sent
            )
        )
        for order in due if template else ():
            template.sudo().send_mail(order.id, force_send=False)
            order.optics_e_receipt_sent = True

    def init(self):
        res = super().init()
        cr = self.env.cr
        cr.execute(
            "SELECT access_token FROM pos_order WHERE access_token IS NOT NULL AND access_token <> '' "
            "GROUP BY access_token HAVING count(*) > 1 LIMIT 5"
        )
        duplicated = [row[0] for row in cr.fetchall()]
        if duplicated:
            raise UserError(
                _(
                    "POS orders share a key (access_token), so their fiscal documents cannot be joined: %s. "
                    "Merge or re-key those orders, then update the module again.",
                    ", ".join(duplicated),
                )
            )
        cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS pos_order_access_token_unique ON pos_order (access_token) "
            "WHERE access_token IS NOT NULL AND access_token <> ''"
        )
        return res

    def _flag_review(self, reason):
        for order in self:
            lines = [line for line in (order.review_reason or "").split("\n") if line]
            if reason not in lines:
                order.review_reason = "\n".join([*lines, reason])

    def _check_totals(self):
        """Odoo takes the POS's totals as sent: lines and payments must add up to them."""
        for order in self:
            rounding = order.currency_id.rounding
            if order.config_id.cash_rounding:
                rounding = max(rounding, order.config_id.rounding_method.rounding)
            lines = sum(order.lines.mapped("price_subtotal_incl"))
            paid = order.amount_paid - order.amount_return
            if float_compare(lines, order.amount_total, precision_rounding=rounding):
                message = _("lines add up to %(lines).2f, the order says %(total).2f")
                order._flag_review(message % {"lines": lines, "total": order.amount_total})
            if order.state != "draft" and float_compare(
                paid, order.amount_total, precision_rounding=rounding
            ):
                message = _("payments add up to %(paid).2f, the order says %(total).2f")
                order._flag_review(message % {"paid": paid, "total": order.amount_total})

    def _merge_pos_copy(self, data):
        """The POS's own copy of an order Odoo built from the till's document: the built order stays (it is
        accounted); the copy's customer joins it and any difference is flagged."""
        self.ensure_one()
        self.till_origin = "merged"
        if data.get("partner_id") and not self.partner_id:
            self.partner_id = data["partner_id"]
        if float_compare(
            data.get("amount_total", 0.0), self.amount_total, precision_rounding=self.currency_id.rounding
        ):
            message = _("the POS's copy arrived later with a total of %(pos).2f, the till's %(till).2f")
            self._flag_review(message % {"pos": data.get("amount_total", 0.0), "till": self.amount_total})
        _logger.info("POS copy of order %s merged into the order built from the till", self.name)

    @api.model
    def _process_order(self, order, draft, existing_order):
        """A new order whose key Odoo already holds is the same sale sent again: answer its id."""
        data = order.get("data", {})
        key = data.get("access_token")
        if isinstance(data.get("pos_session_id"), int):
            # A name used by a POS reopened offline: that login number is never handed out again.
            self.env["pos.session"].sudo()._optics_reserve_from_names(
                data["pos_session_id"], [data.get("name")]
            )
        if not existing_order and key:
            known = self.search([("access_token", "=", key)], limit=1)
            if known:
                if known.till_origin == "created_from_till":
                    known._merge_pos_copy(data)
                _logger.info("POS order %s (key %s) is already recorded: not inserted again", known.name, key)
                return known.id
        try:
            # Not muted: this savepoint spans all of Odoo's order processing (lines, payments, picking),
            # whose SQL errors must stay in the log; only the rare key race logs one expected "bad query".
            with self.env.cr.savepoint():
                order_id = super()._process_order(order, draft, existing_order)
        except psycopg2.errors.UniqueViolation as exc:
            if INDEX not in str(exc):
                raise
            # Another request recorded this key after our snapshot: Odoo retries the whole call.
            raise ConcurrentDelivery(str(exc)) from exc
        created = self.browse(order_id)
        created._check_totals()
        created._optics_send_e_receipts()
        if key:
            docs = (
                self.env["optics.fiscal.document"]
                .sudo()
                .search([("idempotency_key", "=", key), ("pos_order_id", "=", False)])
            )
            docs._link_orders()
        return order_id
