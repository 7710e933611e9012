"""``optics.order.from.document``: the POS order Odoo builds from a till's fiscal document.

A sale reaches Odoo by two roads, the POS's own order and the till's fiscal document. When the POS's copy
does not come within ``optics_pos_ru54fz.order_grace_minutes`` (power cut, cleared browser storage, a
crashed tab), Odoo builds the order from what the FN signed: one line per receipt item on the product
«Item from the till» with the item's name, VAT from its FFD code (tag 1199) mapped to the company's
price-included sale tax, the payments by method. It goes through Odoo's own ``_process_order``, so it is
paid, picked and accounted like any POS order, in the till's open session or Odoo's rescue session. It is
marked ``created_from_till`` and flagged for review; the POS's copy, should it arrive later, is merged into
it (models/pos_order.py).
"""

import logging
import uuid
from datetime import timedelta
from decimal import Decimal

from odoo import _, api, fields, models

_logger = logging.getLogger(__name__)

#: Minutes Odoo waits for the POS's own copy of a sale before building the order from the document: the
#: POS syncs within seconds when Odoo is up; after an outage its queue drains within minutes.
DEFAULT_GRACE_MINUTES = 30
#: FFD tag 1199 code -> VAT rate in %; None = not subject to VAT (6).
VAT_RATES = {1: 20, 2: 10, 3: 20, 4: 10, 5: 0, 6: None, 7: 5, 8: 7, 9: 5, 10: 7, 11: 22, 12: 22}
CASH_METHODS = ("cash",)
KINDS = ("sale", "refund")  # a correction receipt is no sale: it has no order


class OrderFromDocument(models.AbstractModel):
    _name = "optics.order.from.document"
    _description = "POS order built from a fiscal document"

    @api.model
    def _grace(self):
        minutes = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("optics_pos_ru54fz.order_grace_minutes", DEFAULT_GRACE_MINUTES)
        )
        return timedelta(minutes=int(minutes))

    @api.model
    def _cron_create_missing_orders(self, limit=200):
        """Build the orders the POS never sent; documents that cannot have one are flagged, not retried."""
        Doc = self.env["optics.fiscal.document"]
        due = [
            ("pos_order_id", "=", False),
            ("kind", "in", KINDS),
            ("order_problem", "=", False),
            ("received_at", "<", fields.Datetime.now() - self._grace()),
        ]
        # Tills without a point of sale cannot have orders: flag all their documents at once.
        homeless = Doc.search([*due, ("till_id.pos_config_id", "=", False)])
        for till in homeless.till_id:
            homeless.filtered(lambda d, t=till: d.till_id == t).order_problem = self._no_config(till)
        waiting = Doc.search(
            [*due, ("till_id.pos_config_id", "!=", False)], limit=limit, order="issued_at, id"
        )  # a sale before its refund
        waiting._link_orders()  # the POS's copy may have come in the meantime
        created = 0
        for doc in waiting.filtered(lambda d: not d.pos_order_id):
            problem = self._missing_setup(doc)
            if problem:
                doc.order_problem = problem
                continue
            self._create_order(doc)
            created += 1
        return created

    def _no_config(self, till):
        return _("The till %s has no point of sale: set it on the till to build the order.", till.pos_id)

    def _missing_setup(self, doc):
        config = doc.till_id.pos_config_id
        if not config:
            return self._no_config(doc.till_id)
        if not config.session_ids:
            return _("The point of sale %s has never had a session: open one first.", config.name)
        if not self._product():
            return _("The product «Item from the till» is missing.")
        return False

    def _product(self):
        return self.env.ref("optics_pos_ru54fz.product_till_item", raise_if_not_found=False)

    def _session(self, config):
        """The config's open session, else its last one (``_process_order`` moves the order from a closed
        session to Odoo's rescue session)."""
        return config.current_session_id or config.session_ids.sorted("id")[-1:]

    def _tax(self, company, code, notes):
        rate = VAT_RATES.get(code)
        if rate is None:
            return self.env["account.tax"]
        tax = self.env["account.tax"].search(
            [
                ("company_id", "=", company.id),
                ("type_tax_use", "=", "sale"),
                ("amount_type", "=", "percent"),
                ("amount", "=", rate),
                ("price_include", "=", True),
            ],
            limit=1,
        )
        if not tax:
            notes.append(_("no price-included sale tax of %s %% in the company: line without VAT", rate))
        return tax

    def _lines(self, doc, session, notes):
        sign = -1 if doc.kind == "refund" else 1
        product, company = self._product(), session.config_id.company_id
        currency = session.currency_id
        lines = []
        for item in (doc.document or {}).get("items", []):
            quantity = Decimal(str(item.get("quantity", 1))) * sign
            price = Decimal(str(item.get("price", 0)))
            tax = self._tax(company, item.get("vat"), notes)
            total = tax.compute_all(float(price), currency, float(quantity), product=product)
            lines.append(
                (0, 0, {
                    "product_id": product.id,
                    "full_product_name": item.get("name") or product.name,
                    "qty": float(quantity),
                    "price_unit": float(price),
                    "discount": 0.0,
                    "tax_ids": [(6, 0, tax.ids)],
                    "price_subtotal": total["total_excluded"],
                    "price_subtotal_incl": total["total_included"],
                    "pack_lot_ids": [],
                })
            )  # fmt: skip
        return lines

    def _payments(self, doc, session, notes):
        sign = -1 if doc.kind == "refund" else 1
        methods = session.config_id.payment_method_ids
        cash, other = (
            methods.filtered("is_cash_count")[:1],
            methods.filtered(lambda m: not m.is_cash_count)[:1],
        )
        payments = []
        for pay in (doc.document or {}).get("payments", []):
            method = cash if pay.get("method") in CASH_METHODS else (other or cash)
            if pay.get("method") not in CASH_METHODS and not other:
                notes.append(
                    _("no non-cash payment method on the point of sale: paid by card booked as cash")
                )
            payments.append(
                (0, 0, {
                    "amount": float(Decimal(str(pay.get("amount", 0))) * sign),
                    "name": fields.Datetime.to_string(doc.issued_at),
                    "payment_method_id": method.id,
                })
            )  # fmt: skip
        return payments

    def _ui_order(self, doc, notes):
        """The order as the POS would have sent it to ``create_from_ui``."""
        session = self._session(doc.till_id.pos_config_id)
        lines = self._lines(doc, session, notes)
        payments = self._payments(doc, session, notes)
        total = sum(line[2]["price_subtotal_incl"] for line in lines)
        untaxed = sum(line[2]["price_subtotal"] for line in lines)
        return {
            "name": _("Till %(till)s, FN %(fn)s FD %(fd)s", till=doc.pos_id, fn=doc.fn_number, fd=doc.fd),
            "uid": f"till-{doc.fn_number}-{doc.fd}",
            "access_token": doc.idempotency_key or str(uuid.uuid4()),
            "pos_session_id": session.id,
            "user_id": self.env.uid,
            "partner_id": False,
            "sequence_number": 0,
            "date_order": fields.Datetime.to_string(doc.issued_at),
            "fiscal_position_id": False,
            "pricelist_id": session.config_id.pricelist_id.id,
            "lines": lines,
            "statement_ids": payments,
            "amount_total": total,
            "amount_tax": total - untaxed,
            "amount_paid": sum(p[2]["amount"] for p in payments),
            "amount_return": 0,
            "to_invoice": False,
        }

    def _create_order(self, doc):
        notes = []
        data = self._ui_order(doc, notes)
        Order = self.env["pos.order"].with_context(optics_order_from_document=True)
        order = Order.browse(Order._process_order({"data": data}, False, False))
        doc.pos_order_id = order
        if doc.original_id.pos_order_id:
            order.refund_of_order_id = doc.original_id.pos_order_id
        reasons = [_("built from the till's fiscal document: the POS never sent this order"), *notes]
        order.write({"till_origin": "created_from_till", "review_reason": "\n".join(reasons)})
        doc._check_against_order()
        _logger.info(
            "POS order %s built from FN %s FD %s of till %s", order.name, doc.fn_number, doc.fd, doc.pos_id
        )
        return order
