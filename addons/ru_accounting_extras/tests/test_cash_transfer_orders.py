# Tests of a cash transfer's cash orders: KO-2 at the source when sent, KO-1 at the destination store when
# received, KO-1 back at the source when cancelled in transit, none for the bank's receipt; once each.
from odoo.tests import tagged

from .cash_transfer_common import CashTransferCase


@tagged("post_install", "-at_install")
class TestCashTransferOrders(CashTransferCase):
    def _orders(self, transfer):
        return self.env["ru.cash.order"].sudo().search([("origin", "=", f"{transfer._name},{transfer.id}")])

    def _order(self, transfer, order_type):
        return self._orders(transfer).filtered(lambda o: o.order_type == order_type)

    def test_between_stores(self):
        transfer = self._transfer(self.user_a, amount=7000.0, carrier="Иванов И. И.")
        transfer.action_send()
        out = self._order(transfer, "out")
        # The collection is one posted KO-2 of store A: 7 000.00, Kt-account 57.01, the sending entry.
        self.assertEqual(len(self._orders(transfer)), 1)
        self.assertEqual(
            (out.state, out.store_id, out.amount, out.account_id, out.move_id, out.counterpart),
            ("posted", self.store_a, 7000.0, self.transit, transfer.sent_move_id, "Иванов И. И."),
        )
        self.assertIn(transfer.name, out.basis)
        transfer.with_user(self.user_b).action_receive()
        came = self._order(transfer, "in")
        self.assertEqual(
            (came.state, came.store_id, came.amount, came.account_id, came.move_id),
            ("posted", self.store_b, 7000.0, self.transit, transfer.received_move_id),
        )
        self.assertEqual(len(self._orders(transfer)), 2)
        # Idempotent: the hook run again makes nothing new.
        transfer._ru_cash_order_hook("sent")
        transfer._ru_cash_order_hook("received")
        self.assertEqual(len(self._orders(transfer)), 2)

    def test_bank_destination_has_only_the_outgoing_order(self):
        transfer = self._bank_collection()
        transfer.action_send()
        transfer.with_user(self.chief).action_receive()
        self.assertEqual(self._orders(transfer).mapped("order_type"), ["out"])
        self.assertEqual(self._order(transfer, "out").amount, 4000.0)

    def test_cancelled_in_transit_brings_an_incoming_order_at_the_source(self):
        transfer = self._transfer(self.user_a, amount=2500.0)
        transfer.action_send()
        transfer.with_user(self.user_a).action_cancel()
        back = self._order(transfer, "in")
        self.assertEqual(
            (back.store_id, back.amount, back.move_id), (self.store_a, 2500.0, transfer.cancel_move_id)
        )
        self.assertEqual(sorted(self._orders(transfer).mapped("order_type")), ["in", "out"])

    def test_cancelled_draft_has_no_order(self):
        transfer = self._transfer(self.user_a, amount=1000.0)
        transfer.action_cancel()
        self.assertFalse(self._orders(transfer))
