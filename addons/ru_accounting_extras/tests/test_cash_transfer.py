# Tests of cash transfers through 57.01: every state and transition, both ends' entries with their
# amounts, the bank destination, the refusals (over the cash balance, same store, twice, wrong store) and
# who sees what.
from datetime import timedelta
from unittest.mock import call, patch

from odoo.addons.ru_accounting_extras.models.cash_transfer import AccountCashTransfer
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .cash_transfer_common import CashTransferCase


@tagged("post_install", "-at_install")
class TestCashTransfer(CashTransferCase):
    # ------------------------------------------------------------------ store to store

    def test_send_and_receive_between_stores(self):
        self.assertEqual(self.cash_a.code, "50.01.01")
        transfer = self._transfer(self.user_a, carrier="Иванов И. И.", bag_number="SEAL-42")
        self.assertRegex(transfer.name, rf"^CT/{self.today.year}/\d{{5}}$")
        self.assertEqual(transfer.state, "draft")
        self.assertFalse(transfer.sent_move_id)
        # The chatter's tracking is written at commit, and skips a record created in the same transaction.
        self.env.cr.precommit.run()
        with patch.object(AccountCashTransfer, "_ru_cash_order_hook", autospec=True) as hook:
            transfer.action_send()
            self.env.cr.precommit.run()
            self.assertEqual(hook.call_args_list, [call(transfer, "sent")])
            self.assertEqual(transfer.state, "sent")
            sent = transfer.sent_move_id
            self.assertEqual(sent.journal_id, self.store_a.ru_cash_journal_id)
            self.assertEqual(sent.date, self.today)
            # Dt 57.01 7 000.00 / Ct 50.01.01 7 000.00
            self.assertEqual(self._lines(sent), {self.transit.code: (7000.0, 0.0), "50.01.01": (0.0, 7000.0)})
            # Store A: 10 000.00 − 7 000.00 = 3 000.00; in transit 7 000.00; store B nothing yet.
            self.assertEqual(self._balance(self.cash_a), 3000.0)
            self.assertEqual(self._balance(self.transit), 7000.0)
            self.assertEqual(self._balance(self.cash_b), 0.0)

            transfer.with_user(self.user_b).action_receive()
            self.env.cr.precommit.run()
            self.assertEqual(hook.call_args_list, [call(transfer, "sent"), call(transfer, "received")])
        self.assertEqual(transfer.state, "received")
        self.assertEqual(transfer.date_received, self.today)
        received = transfer.received_move_id
        self.assertEqual(received.journal_id, self.store_b.ru_cash_journal_id)
        # Dt 50.01.02 7 000.00 / Ct 57.01 7 000.00
        self.assertEqual(
            self._lines(received), {self.cash_b.code: (7000.0, 0.0), self.transit.code: (0.0, 7000.0)}
        )
        # Store A 3 000.00, store B 0 + 7 000.00, 57.01: 7 000.00 − 7 000.00 = 0.
        self.assertEqual(self._balance(self.cash_a), 3000.0)
        self.assertEqual(self._balance(self.cash_b), 7000.0)
        self.assertEqual(self._balance(self.transit), 0.0)
        transit_lines = self._transit_lines(transfer)
        self.assertEqual(len(transit_lines), 2)
        self.assertTrue(transit_lines[0].full_reconcile_id)
        self.assertEqual(transit_lines[0].full_reconcile_id, transit_lines[1].full_reconcile_id)
        self.assertEqual(transit_lines.mapped("amount_residual"), [0.0, 0.0])
        self.assertTrue(all((sent | received).statement_line_id.mapped("is_reconciled")))
        # The chatter tracked the states.
        tracked = transfer.sudo().message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "state"
        )
        self.assertEqual(sorted(tracked.mapped("new_value_char")), ["In transit", "Received"])

    def test_send_twice_receive_twice_refused(self):
        transfer = self._transfer(self.user_a)
        transfer.action_send()
        with self.assertRaisesRegex(UserError, "cannot be sent"):
            transfer.action_send()
        transfer.with_user(self.user_b).action_receive()
        with self.assertRaisesRegex(UserError, "cannot be received"):
            transfer.with_user(self.user_b).action_receive()
        with self.assertRaisesRegex(UserError, "only a draft or a transfer in transit"):
            transfer.action_cancel()
        # Posted once each way: A 10 000.00 − 7 000.00 = 3 000.00, B 7 000.00, 57.01 0.
        self.assertEqual(self._balance(self.cash_a), 3000.0)
        self.assertEqual(self._balance(self.cash_b), 7000.0)
        self.assertEqual(self._balance(self.transit), 0.0)
        self.assertEqual(transfer.state, "received")

    # ------------------------------------------------------------------ bank

    def test_bank_destination(self):
        bank_account = self.bank.default_account_id
        before = self._balance(bank_account)
        transfer = self._bank_collection()
        transfer.with_user(self.user_a).action_send()
        # Store A: 10 000.00 − 4 000.00 = 6 000.00; 57.01 4 000.00.
        self.assertEqual(self._balance(self.cash_a), 6000.0)
        self.assertEqual(self._balance(self.transit), 4000.0)
        # The bank's receipt is for the chief accountant only.
        with self.assertRaises(AccessError):
            transfer.with_user(self.user_a).action_receive()
        self.assertEqual(transfer.state, "sent")
        transfer.with_user(self.chief).action_receive()
        self.assertEqual(transfer.state, "received")
        received = transfer.received_move_id
        self.assertEqual(received.journal_id, self.bank)
        self.assertEqual(
            self._lines(received), {bank_account.code: (4000.0, 0.0), self.transit.code: (0.0, 4000.0)}
        )
        # Bank + 4 000.00; 57.01 4 000.00 − 4 000.00 = 0; the statement line is reconciled (no suspense).
        self.assertEqual(self._balance(bank_account), before + 4000.0)
        self.assertEqual(self._balance(self.transit), 0.0)
        st_line = received.statement_line_id
        self.assertTrue(st_line.is_reconciled)
        self.assertEqual(st_line.amount, 4000.0)
        transit_lines = self._transit_lines(transfer)
        self.assertTrue(transit_lines[0].full_reconcile_id)
        self.assertEqual(transit_lines[0].full_reconcile_id, transit_lines[1].full_reconcile_id)

    def test_bank_destination_needs_bank_journal(self):
        with self.assertRaisesRegex(ValidationError, "choose the bank account"):
            self._transfer(destination_type="bank", destination_store_id=False)
        with self.assertRaisesRegex(ValidationError, "not a bank journal"):
            self._transfer(
                destination_type="bank",
                destination_store_id=False,
                destination_journal_id=self.store_b.ru_cash_journal_id.id,
            )

    # ------------------------------------------------------------------ cancel

    def test_cancel_draft(self):
        transfer = self._transfer(self.user_a)
        transfer.with_user(self.user_a).action_cancel()
        self.assertEqual(transfer.state, "cancelled")
        self.assertFalse(transfer.sent_move_id | transfer.cancel_move_id)
        self.assertEqual(self._balance(self.cash_a), 10000.0)
        with self.assertRaisesRegex(UserError, "cannot be sent"):
            transfer.action_send()

    def test_cancel_sent(self):
        transfer = self._transfer(self.user_a, amount=2500.0)
        transfer.action_send()
        # 10 000.00 − 2 500.00 = 7 500.00
        self.assertEqual(self._balance(self.cash_a), 7500.0)
        # The destination store's accountant cannot cancel what store A sent.
        with self.assertRaises(AccessError):
            transfer.with_user(self.user_b).action_cancel()
        transfer.with_user(self.user_a).action_cancel()
        self.assertEqual(transfer.state, "cancelled")
        reversal = transfer.cancel_move_id
        self.assertEqual(reversal.journal_id, self.store_a.ru_cash_journal_id)
        # Dt 50.01.01 2 500.00 / Ct 57.01 2 500.00: the cash is back, 7 500.00 + 2 500.00 = 10 000.00.
        self.assertEqual(self._lines(reversal), {"50.01.01": (2500.0, 0.0), self.transit.code: (0.0, 2500.0)})
        self.assertEqual(self._balance(self.cash_a), 10000.0)
        self.assertEqual(self._balance(self.transit), 0.0)
        self.assertEqual(self._balance(self.cash_b), 0.0)
        transit_lines = self._transit_lines(transfer)
        self.assertEqual(len(transit_lines), 2)
        self.assertTrue(transit_lines[0].full_reconcile_id)
        self.assertEqual(transit_lines[0].full_reconcile_id, transit_lines[1].full_reconcile_id)
        with self.assertRaisesRegex(UserError, "cannot be received"):
            transfer.with_user(self.user_b).action_receive()
        with self.assertRaisesRegex(UserError, "only a draft or a transfer in transit"):
            transfer.action_cancel()

    def test_received_cannot_be_cancelled(self):
        transfer = self._transfer(self.user_a)
        transfer.action_send()
        transfer.with_user(self.user_b).action_receive()
        with self.assertRaisesRegex(UserError, "only a draft or a transfer in transit"):
            transfer.with_user(self.user_a).action_cancel()
        self.assertEqual(transfer.state, "received")
        self.assertFalse(transfer.cancel_move_id)

    # ------------------------------------------------------------------ refusals

    def test_over_balance_refused(self):
        transfer = self._transfer(self.user_a, amount=10000.01)
        with self.assertRaisesRegex(UserError, "less than"):
            transfer.with_user(self.user_a).action_send()
        self.assertEqual(transfer.state, "draft")
        self.assertFalse(transfer.sent_move_id)
        # Back-dated before the takings (ten days ago) the cash was 0.00: refused too.
        early = self._transfer(self.user_a, amount=100.0, date_sent=self.today - timedelta(days=11))
        with self.assertRaisesRegex(UserError, "less than"):
            early.action_send()
        # The whole 10 000.00 can go: 10 000.00 − 10 000.00 = 0.00 left, then not a kopeck more.
        transfer.amount = 10000.0
        transfer.with_user(self.user_a).action_send()
        self.assertEqual(self._balance(self.cash_a), 0.0)
        with self.assertRaisesRegex(UserError, "less than"):
            self._transfer(self.user_a, amount=0.01).action_send()

    def test_invalid_transfers_refused(self):
        with self.assertRaisesRegex(ValidationError, "to the store it comes from"):
            self._transfer(destination_store_id=self.store_a.id)
        with self.assertRaisesRegex(ValidationError, "must be positive"):
            self._transfer(amount=0.0)
        with self.assertRaisesRegex(ValidationError, "must be positive"):
            self._transfer(amount=-5.0)
        with self.assertRaisesRegex(ValidationError, "choose the store"):
            self._transfer(destination_store_id=False)
        transfer = self._transfer()
        with self.assertRaisesRegex(ValidationError, "received before it is sent"):
            transfer.date_received = self.today - timedelta(days=1)

    def test_store_without_cash_refused(self):
        store_c = (
            self.env["stock.warehouse"]
            .sudo()
            .create({"name": "Store C", "code": "STC", "company_id": self.company.id})
        )
        to_c = self._transfer(destination_store_id=store_c.id, amount=100.0)
        with self.assertRaisesRegex(UserError, "Store C has no cash set up"):
            to_c.action_send()
        from_c = self._transfer(
            source_store_id=store_c.id, destination_store_id=self.store_a.id, amount=100.0
        )
        with self.assertRaisesRegex(UserError, "Store C has no cash set up"):
            from_c.action_send()
        self.assertEqual((to_c | from_c).mapped("state"), ["draft", "draft"])

    def test_wrong_store_refused(self):
        transfer = self._transfer(self.user_a)
        # Store B's accountant sees the transfer but cannot send store A's cash.
        with self.assertRaises(AccessError):
            transfer.with_user(self.user_b).action_send()
        transfer.with_user(self.user_a).action_send()
        # Store A's accountant cannot receive for store B.
        with self.assertRaises(AccessError):
            transfer.with_user(self.user_a).action_receive()
        self.assertEqual(transfer.state, "sent")
        self.assertEqual(self._balance(self.cash_b), 0.0)
        transfer.with_user(self.user_b).action_receive()
        self.assertEqual(self._balance(self.cash_b), 7000.0)

    def test_sent_transfer_frozen(self):
        transfer = self._transfer(self.user_a)
        transfer.action_send()
        with self.assertRaisesRegex(UserError, "no longer a draft"):
            transfer.with_user(self.user_a).amount = 100.0
        with self.assertRaisesRegex(UserError, "no longer a draft"):
            transfer.destination_store_id = self.env["stock.warehouse"]
        transfer.with_user(self.user_a).bag_number = "SEAL-7"
        self.assertEqual(transfer.bag_number, "SEAL-7")
        self.assertEqual(transfer.amount, 7000.0)

    # ------------------------------------------------------------------ visibility

    def test_record_rules_and_unlink(self):
        a_to_b = self._transfer(self.user_a)
        b_to_bank = self._transfer(
            self.user_b,
            source_store_id=self.store_b.id,
            destination_type="bank",
            destination_store_id=False,
            destination_journal_id=self.bank.id,
        )
        a_to_bank = self._transfer(
            self.user_a,
            destination_type="bank",
            destination_store_id=False,
            destination_journal_id=self.bank.id,
        )
        ours = a_to_b | b_to_bank | a_to_bank
        domain = [("id", "in", ours.ids)]

        def seen(user):
            return self.env["account.cash.transfer"].with_user(user).search(domain)

        self.assertEqual(seen(self.user_a), a_to_b | a_to_bank)
        self.assertEqual(seen(self.user_b), a_to_b | b_to_bank)
        self.assertEqual(seen(self.chief), ours)
        with self.assertRaises(AccessError):
            b_to_bank.with_user(self.user_a).read(["amount"])
        # A store accountant creates only for their stores.
        with self.assertRaises(AccessError):
            self._transfer(
                self.user_a,
                source_store_id=self.store_b.id,
                destination_type="bank",
                destination_store_id=False,
                destination_journal_id=self.bank.id,
            )
        # No deletion by store accountants; the chief deletes drafts only.
        with self.assertRaises(AccessError):
            a_to_b.with_user(self.user_a).unlink()
        a_to_bank.action_send()
        with self.assertRaisesRegex(UserError, "not a draft"):
            a_to_bank.with_user(self.chief).unlink()
        a_to_b.with_user(self.chief).unlink()
        self.assertFalse(a_to_b.exists())
