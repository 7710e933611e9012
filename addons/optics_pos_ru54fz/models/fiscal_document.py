"""``optics.fiscal.document``: one row per document a till's FN signed, recorded exactly once.

The tills deliver through ``/optics_pos_ru54fz/v1/receipts`` (controllers/till_api.py), retrying until
they hear an answer, so every receipt may arrive more than once and two Odoo workers may receive the same
batch at the same moment. Exactly-once rests on the database: ``receipt_id`` is unique and ``(fn_number,
fd)`` is unique. A repeat is answered ``duplicate`` (the till's success); a receipt id seen with another
FN/FD, or an FN+FD owned by another receipt, is ``rejected``. An FN replaced under the same till restarts
FD numbering at 1: the key holds the FN number, so the new FN's documents are new rows and the old FN's
stay as they were.
"""

import logging

import psycopg2
from psycopg2 import errorcodes

from odoo import _, api, fields, models
from odoo.tools import mute_logger

from ..tools.receipt_check import Rejected, check_receipt
from .bigint import BigInteger

_logger = logging.getLogger(__name__)


class ConcurrentDelivery(psycopg2.errors.SerializationFailure):
    """Another transaction recorded the same receipt after this one's snapshot was taken.

    Odoo's request loop (``odoo.service.model.retrying``) retries a request that fails with a serialization
    failure, on a fresh snapshot, where the row is visible and the receipt is answered ``duplicate``. The
    class attribute stands in for the code PostgreSQL itself would have set.
    """

    pgcode = errorcodes.SERIALIZATION_FAILURE


class FiscalDocument(models.Model):
    _name = "optics.fiscal.document"
    _description = "Till fiscal document"
    _order = "issued_at desc, id desc"

    receipt_id = fields.Char("Till receipt ID", required=True, readonly=True, index=True)
    fn_number = fields.Char("FN number", size=16, required=True, readonly=True)
    fd = BigInteger("FD number", required=True, readonly=True)
    fiscal_sign = BigInteger("Fiscal sign", required=True, readonly=True)
    kind = fields.Selection(
        [("sale", "Sale"), ("refund", "Refund"), ("correction", "Correction")],
        required=True,
        readonly=True,
    )
    fiscal_document_type = fields.Selection(
        [("3", "Receipt"), ("31", "Correction receipt")],
        string="FFD document type",
        required=True,
        readonly=True,
        default="3",
    )
    total = BigInteger("Total, kopecks", required=True, readonly=True)
    currency_id = fields.Many2one(
        "res.currency", default=lambda self: self.env.ref("base.RUB"), readonly=True
    )
    amount_total = fields.Monetary("Total", compute="_compute_amount_total", store=True)
    issued_at = fields.Datetime("Signed by the FN", required=True, readonly=True, index=True)
    issued_at_local = fields.Char("Signed (store time)", compute="_compute_issued_at_local")
    hlc = fields.Char(
        "HLC", required=True, readonly=True, help="Hybrid logical clock of the till's journal event"
    )
    till_id = fields.Many2one(
        "pos.offline.buffer.status",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
    )
    pos_id = fields.Char(related="till_id.pos_id", store=True, string="Till ID")
    store_id = fields.Many2one(related="till_id.store_id", store=True, string="Store")
    company_id = fields.Many2one(related="till_id.company_id", store=True, index=True)
    original_receipt_id = fields.Char("Original receipt ID", readonly=True)
    original_id = fields.Many2one(
        "optics.fiscal.document", string="Original receipt", readonly=True, index=True
    )
    refund_ids = fields.One2many("optics.fiscal.document", "original_id", string="Refunds")
    document = fields.Json("Till document", readonly=True)
    state = fields.Selection(
        [("recorded", "Recorded"), ("refunded", "Refunded")],
        required=True,
        default="recorded",
        readonly=True,
        help="Refunded: a refund naming this sale was recorded",
    )
    received_at = fields.Datetime("Received", required=True, readonly=True, default=fields.Datetime.now)
    idempotency_key = fields.Char(
        "POS order key",
        readonly=True,
        index=True,
        help="The Idempotency-Key the POS sent with the sale: the access token of its POS order",
    )
    pos_order_id = fields.Many2one("pos.order", string="POS order", readonly=True, index=True)
    review_reason = fields.Text(
        readonly=True,
        help="Why this document and its POS order disagree (total, lines); empty when they agree",
    )
    order_problem = fields.Text(
        readonly=True, help="Why Odoo cannot build the POS order the POS never sent (fix it, then clear this)"
    )

    _sql_constraints = [
        ("receipt_id_unique", "UNIQUE(receipt_id)", "A receipt with this ID is already recorded."),
        (
            "fn_fd_unique",
            "UNIQUE(fn_number, fd)",
            "A document with this FN and FD number is already recorded.",
        ),
        ("fd_positive", "CHECK(fd > 0)", "The FD number must be positive."),
        ("total_not_negative", "CHECK(total >= 0)", "The total cannot be negative."),
    ]

    @api.depends("total")
    def _compute_amount_total(self):
        for doc in self:
            doc.amount_total = doc.total / 100

    @api.depends("issued_at", "till_id.tz")
    def _compute_issued_at_local(self):
        for doc in self:
            local = doc.issued_at and fields.Datetime.context_timestamp(
                doc.with_context(tz=doc.till_id.tz or "Europe/Moscow"), doc.issued_at
            )
            doc.issued_at_local = local.strftime("%d.%m.%Y %H:%M:%S %Z") if local else False

    @api.depends("kind", "fn_number", "fd")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for doc in self:
            doc.display_name = _(
                "%(kind)s FN %(fn)s FD %(fd)s", kind=kinds.get(doc.kind), fn=doc.fn_number, fd=doc.fd
            )

    # --- intake ---------------------------------------------------------------------------------------

    @api.model
    def _intake(self, till, items):
        """Record a till's batch in order; one result per item: created, duplicate or rejected."""
        return [self._intake_one(till, item) for item in items]

    def _intake_one(self, till, item):
        result = {"receipt_id": item.get("receipt_id"), "status": "created", "reason": None}
        try:
            values = check_receipt(item)
            result["status"] = self._judge(values)
            if result["status"] == "created":
                self._record(till, values)
        except Rejected as exc:
            result.update(status="rejected", reason=str(exc))
        return result

    def _judge(self, values):
        """``created`` or ``duplicate`` against the rows this transaction sees; raises ``Rejected``."""
        rid, fn, fd = values["receipt_id"], values["fn_number"], values["fd"]
        known = self.search([("receipt_id", "=", rid)], limit=1)
        if known:
            if (known.fn_number, known.fd) != (fn, fd):
                raise Rejected(
                    f"receipt {rid} was recorded with FN {known.fn_number} FD {known.fd}, not FN {fn} FD {fd}"
                )
            return "duplicate"
        owner = self.search([("fn_number", "=", fn), ("fd", "=", fd)], limit=1)
        if owner:
            raise Rejected(f"FN {fn} FD {fd} already belongs to receipt {owner.receipt_id}")
        if values["kind"] == "refund":
            original = self.search([("receipt_id", "=", values["original_receipt_id"])], limit=1)
            if not original:
                raise Rejected(f"the original receipt {values['original_receipt_id']} was never received")
            if original.kind == "refund":
                raise Rejected(f"the original receipt {original.receipt_id} is itself a refund")
            values["original_id"] = original.id
        return "created"

    def _record(self, till, values):
        """Insert one document; a unique violation means a concurrent delivery won the race."""
        vals = dict(values, till_id=till.id, fiscal_document_type=str(values["fiscal_document_type"]))
        try:
            # The race is expected and answered: not an error for odoo.sql_db to log ("bad query").
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                doc = self.create(vals)
        except psycopg2.errors.UniqueViolation as exc:
            # Nothing this transaction sees holds the key (``_judge`` looked): another request committed it
            # after our snapshot. Retry the request on a fresh snapshot, where it is an honest duplicate.
            _logger.info(
                "receipt %s recorded concurrently; retrying the request: %s", values["receipt_id"], exc
            )
            raise ConcurrentDelivery(str(exc)) from exc
        if doc.original_id:
            doc.original_id.state = "refunded"
        if doc.idempotency_key:
            doc._link_orders()
        return doc

    def _link_orders(self):
        """Join documents to their POS orders by the key (``pos.order.access_token``, unique where set)."""
        pending = self.filtered(lambda d: d.idempotency_key and not d.pos_order_id)
        if not pending:
            return 0
        orders = self.env["pos.order"].search([("access_token", "in", pending.mapped("idempotency_key"))])
        by_key = {order.access_token: order for order in orders}
        linked = 0
        for doc in pending:
            order = by_key.get(doc.idempotency_key)
            if order:
                doc.pos_order_id = order
                doc._check_against_order()
                linked += 1
        pending.pos_order_id._optics_send_e_receipts()
        return linked

    def _check_against_order(self):
        """Flag a document whose total differs from its order's (the FN's figure is the legal one)."""
        for doc in self.filtered("pos_order_id"):
            order = doc.pos_order_id
            ordered = round(abs(order.amount_total) * 100)
            reason = False
            if ordered != doc.total:
                reason = _(
                    "the FN signed %(signed).2f, the POS order %(order)s says %(ordered).2f",
                    signed=doc.total / 100,
                    order=order.name,
                    ordered=ordered / 100,
                )
            doc.review_reason = reason
            if reason:
                order._flag_review(reason)

    @api.model
    def _cron_link_orders(self):
        """Documents and orders that arrived at the same moment in two transactions saw neither the other:
        join them now (the POS order and the fiscal document of one sale are one record)."""
        return self.search([("idempotency_key", "!=", False), ("pos_order_id", "=", False)])._link_orders()
