"""A sale reaches Odoo by two roads, the POS's order and the till's fiscal document: joined by the key."""

import uuid
from datetime import timedelta

from odoo import fields
from odoo.addons.point_of_sale.tests.common import TestPoSCommon
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import FN_A, receipt


@tagged("post_install", "-at_install")
class TestPosOrderLink(TestPoSCommon):
    def setUp(self):
        super().setUp()
        self.config = self.basic_config
        self.product = self.create_product("Lens", self.categ_basic, 100.0, 50.0)
        self.open_new_session()
        self.till = (
            self.env["pos.offline.buffer.status"]
            .sudo()
            .create(
                {"name": "Link till", "pos_id": f"link-{uuid.uuid4().hex[:6]}", "company_id": self.company.id}
            )
        )
        self.Doc = self.env["optics.fiscal.document"].sudo()  # the till API works as OdooBot

    def order_data(self, key, quantity=1):
        data = self.create_ui_order_data([(self.product, quantity)])
        data["data"]["access_token"] = key
        return data

    def push(self, data):
        return self.env["pos.order"].browse([o["id"] for o in self.env["pos.order"].create_from_ui([data])])

    def test_a_document_delivered_first_is_joined_when_the_order_arrives(self):
        key = str(uuid.uuid4())
        [result] = self.Doc._intake(self.till, [receipt(1, idempotency_key=key)])
        doc = self.Doc.search([("receipt_id", "=", result["receipt_id"])])
        self.assertFalse(doc.pos_order_id)
        order = self.push(self.order_data(key))
        self.assertEqual(doc.pos_order_id, order)
        self.assertEqual(order.fiscal_document_ids, doc)

    def test_an_order_first_is_joined_when_its_document_arrives(self):
        key = str(uuid.uuid4())
        order = self.push(self.order_data(key))
        upper = key.upper()  # the till may send the key in capitals: the join is on the canonical form
        [result] = self.Doc._intake(self.till, [receipt(2, fn=FN_A, idempotency_key=upper)])
        self.assertEqual(self.Doc.search([("receipt_id", "=", result["receipt_id"])]).pos_order_id, order)

    def test_an_order_sent_again_with_other_content_is_not_inserted_twice(self):
        key = str(uuid.uuid4())
        first = self.push(self.order_data(key, quantity=1))
        again = self.push(self.order_data(key, quantity=2))  # Odoo's own check would insert this one
        self.assertEqual(again, first)
        self.assertEqual(self.env["pos.order"].search_count([("access_token", "=", key)]), 1)
        self.assertEqual(first.lines.qty, 1)

    def test_the_cron_joins_what_two_transactions_missed(self):
        key = str(uuid.uuid4())
        order = self.push(self.order_data(key))
        [result] = self.Doc._intake(self.till, [receipt(3, idempotency_key=key)])
        doc = self.Doc.search([("receipt_id", "=", result["receipt_id"])])
        doc.pos_order_id = False  # as if both had committed at the same moment
        self.assertEqual(self.Doc._cron_link_orders(), 1)
        self.assertEqual(doc.pos_order_id, order)

    def test_a_bad_key_rejects_the_receipt_alone(self):
        bad, good = self.Doc._intake(self.till, [receipt(4, idempotency_key="nope"), receipt(5)])
        self.assertEqual((bad["status"], good["status"]), ("rejected", "created"))
        self.assertIn("'idempotency_key'", bad["reason"])


@tagged("post_install", "-at_install")
class TestOrderFromDocument(TestPoSCommon):
    """The POS never sent the order: Odoo builds it from the fiscal document after the grace period."""

    def setUp(self):
        super().setUp()
        self.config = self.basic_config
        self.product = self.create_product("Frame", self.categ_basic, 100.0, 50.0)
        self.vat20 = self.env["account.tax"].create(
            {"name": "VAT 20% incl.", "amount": 20, "amount_type": "percent", "price_include": True,
             "type_tax_use": "sale", "company_id": self.company.id}
        )  # fmt: skip
        self.open_new_session()
        self.till = self.env["pos.offline.buffer.status"].sudo().create(
            {"name": "Built till", "pos_id": f"built-{uuid.uuid4().hex[:6]}", "company_id": self.company.id,
             "pos_config_id": self.config.id}
        )  # fmt: skip
        self.Doc = self.env["optics.fiscal.document"].sudo()
        self.Builder = self.env["optics.order.from.document"].sudo()

    def deliver(self, fd, **overrides):
        document = {
            "type": "sale",
            "items": [
                {"name": "Оправа Ray-Ban", "price": "8000.00", "quantity": 1, "amount": "8000.00", "vat": 1},
                {"name": "Линза", "price": "700.00", "quantity": 2, "amount": "1400.00", "vat": 1},
            ],
            "payments": [{"method": "cash", "amount": "4000.00"}, {"method": "card", "amount": "5400.00"}],
        }
        item = receipt(fd, total=940000, document=document, idempotency_key=str(uuid.uuid4()))
        item.update(overrides)
        [result] = self.Doc._intake(self.till, [item])
        self.assertEqual(result["status"], "created", result)
        return self.Doc.search([("receipt_id", "=", item["receipt_id"])])

    def age(self, *docs):
        for doc in docs:
            doc.received_at = fields.Datetime.now() - timedelta(minutes=31)

    def test_an_order_is_built_after_the_grace_period_only(self):
        doc = self.deliver(11)
        self.assertEqual(self.Builder._cron_create_missing_orders(), 0)  # the POS may still send it
        self.age(doc)
        self.assertEqual(self.Builder._cron_create_missing_orders(), 1)
        order = doc.pos_order_id
        self.assertEqual(order.till_origin, "created_from_till")
        self.assertEqual(order.state, "paid")
        self.assertAlmostEqual(order.amount_total, 9400.0)
        self.assertAlmostEqual(order.amount_tax, round(9400 / 120 * 20, 2), places=1)
        self.assertEqual(order.lines.mapped("full_product_name"), ["Оправа Ray-Ban", "Линза"])
        taxes = order.lines.tax_ids
        self.assertEqual((set(taxes.mapped("amount")), set(taxes.mapped("price_include"))), ({20.0}, {True}))
        self.assertEqual(sorted(order.payment_ids.mapped("amount")), [4000.0, 5400.0])
        self.assertEqual(order.access_token, doc.idempotency_key)
        self.assertTrue(order.needs_review)
        self.assertFalse(doc.review_reason)  # the totals agree
        self.assertEqual(self.Builder._cron_create_missing_orders(), 0)  # once

    def test_a_closed_session_sends_the_order_to_a_rescue_session(self):
        doc = self.deliver(12)
        self.pos_session.action_pos_session_closing_control()
        self.age(doc)
        self.Builder._cron_create_missing_orders()
        self.assertTrue(doc.pos_order_id.session_id.rescue)

    def test_the_pos_copy_arriving_later_is_merged_not_inserted(self):
        doc = self.deliver(13)
        self.age(doc)
        self.Builder._cron_create_missing_orders()
        built = doc.pos_order_id
        late = self.create_ui_order_data([(self.product, 2)])
        late["data"]["access_token"] = doc.idempotency_key
        late["data"]["partner_id"] = self.customer.id
        ids = [o["id"] for o in self.env["pos.order"].create_from_ui([late])]
        self.assertEqual(ids, [built.id])
        self.assertEqual(self.env["pos.order"].search_count([("access_token", "=", doc.idempotency_key)]), 1)
        self.assertEqual((built.till_origin, built.partner_id), ("merged", self.customer))
        self.assertIn("POS's copy arrived later", built.review_reason)

    def test_the_pos_copy_arriving_after_the_session_closed_is_merged_too(self):
        doc = self.deliver(18)
        self.age(doc)
        self.Builder._cron_create_missing_orders()
        built = doc.pos_order_id
        self.pos_session.action_pos_session_closing_control()
        self.assertEqual(self.pos_session.state, "closed")
        late = self.create_ui_order_data([(self.product, 1)])  # still names the session, now closed
        late["data"]["access_token"] = doc.idempotency_key
        ids = [o["id"] for o in self.env["pos.order"].create_from_ui([late])]
        self.assertEqual(ids, [built.id])
        self.assertEqual(self.env["pos.order"].search_count([("access_token", "=", doc.idempotency_key)]), 1)
        self.assertFalse(
            self.env["pos.session"].search([("rescue", "=", True), ("config_id", "=", self.config.id)])
        )
        self.assertEqual(built.till_origin, "merged")

    def test_a_refund_is_built_negative_and_names_its_original_order(self):
        sale = self.deliver(14)
        refund = self.deliver(15, kind="refund", original_receipt_id=sale.receipt_id)
        self.age(sale, refund)
        self.assertEqual(self.Builder._cron_create_missing_orders(), 2)
        self.assertAlmostEqual(refund.pos_order_id.amount_total, -9400.0)
        self.assertEqual(refund.pos_order_id.refund_of_order_id, sale.pos_order_id)

    def test_a_till_without_point_of_sale_is_flagged_not_retried(self):
        self.till.pos_config_id = False
        doc = self.deliver(16)
        self.age(doc)
        self.assertEqual(self.Builder._cron_create_missing_orders(), 0)
        self.assertIn("has no point of sale", doc.order_problem)
        self.assertFalse(doc.pos_order_id)

    def test_a_document_whose_total_differs_from_its_order_is_flagged(self):
        key = str(uuid.uuid4())
        pos = self.create_ui_order_data([(self.product, 1)])
        pos["data"]["access_token"] = key
        order = self.env["pos.order"].browse([o["id"] for o in self.env["pos.order"].create_from_ui([pos])])
        doc = self.deliver(17, idempotency_key=key)  # 9400.00 signed, 100.00 ordered
        self.assertEqual(doc.pos_order_id, order)
        self.assertIn("the FN signed 9400.00", doc.review_reason)
        self.assertTrue(order.needs_review)

    @mute_logger("odoo.addons.point_of_sale.models.pos_order")  # Odoo logs the unpaid order as an error
    def test_totals_the_pos_sends_are_checked_against_lines_and_payments(self):
        tampered = self.create_ui_order_data([(self.product, 1)])
        tampered["data"]["amount_total"] = 1.0  # the client says 1.00 for a 100.00 line
        tampered["data"]["access_token"] = str(uuid.uuid4())
        [created] = self.env["pos.order"].create_from_ui([tampered])
        order = self.env["pos.order"].browse(created["id"])
        self.assertIn("lines add up to 100.00", order.review_reason)
