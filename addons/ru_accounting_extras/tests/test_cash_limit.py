# Tests of the store's cash limit at the close of a POS session: the closing succeeds; above the limit the
# session's chatter, a To Do for the store's accountants and the POS's answer carry the warning.
from odoo import Command
from odoo.tests import tagged

from .store_cash_common import StoreCashCommon


@tagged("post_install", "-at_install")
class TestCashLimit(StoreCashCommon):
    @classmethod
    def setUpClass(cls, chart_template_ref="ru"):
        super().setUpClass(chart_template_ref=chart_template_ref)
        (cls.store_a | cls.store_b).action_ru_setup_cash()
        group = cls.env.ref("ru_accounting_extras.group_store_accountant")
        cls.accountant_a = cls._accountant("Accountant A", cls.store_a, group)
        cls.accountant_b = cls._accountant("Accountant B", cls.store_b, group)

    @classmethod
    def _accountant(cls, name, store, group):
        return cls.env["res.users"].create(
            {
                "name": name,
                "login": name.lower().replace(" ", "_"),
                "groups_id": [Command.set([group.id])],
                "optics_store_ids": [Command.set(store.ids)],
            }
        )

    def limit_warnings(self, session):
        return session.message_ids.filtered(lambda m: "Cash limit exceeded" in (m.body or ""))

    def test_over_the_limit_warns_and_gives_the_store_accountant_a_to_do(self):
        """Limit 1 000.00; sales 1 500.00, counted 1 480.00 → the cash account holds 1 480.00, over the limit
        by 1 480.00 − 1 000.00 = 480.00."""
        self.store_a.ru_cash_limit = 1000.0
        session, result = self.sell_and_close(self.config_a, 1, 1480.0)
        self.assertTrue(result["successful"], result)
        self.assertEqual(session.state, "closed")
        warning = result["ru_cash_limit_warning"]
        for figure in ("Store A", session.name, "50.01.01", "1,480.00", "1,000.00", "480.00"):
            self.assertIn(figure, warning)
        self.assertIn("excess of 480.00", warning)
        [message] = self.limit_warnings(session)
        self.assertIn("holds 1,480.00", message.body)
        [activity] = session.activity_ids
        self.assertEqual(activity.activity_type_id, self.env.ref("mail.mail_activity_data_todo"))
        self.assertEqual(activity.user_id, self.accountant_a)  # not store B's accountant
        self.assertIn("480.00", activity.note)

    def test_no_accountant_for_the_store_the_to_do_goes_to_the_session_responsible(self):
        self.accountant_a.optics_store_ids = [Command.set(self.store_b.ids)]
        self.store_a.ru_cash_limit = 1000.0
        session, _result = self.sell_and_close(self.config_a, 1, 1480.0)
        self.assertEqual(session.activity_ids.user_id, session.user_id)
        self.assertEqual(session.user_id, self.env.user)
        self.assertEqual(len(session.activity_ids), 1)

    def test_no_limit_no_warning(self):
        """Limit 0 means no limit: 1 480.00 in the cash account, no warning."""
        self.assertEqual(self.store_a.ru_cash_limit, 0.0)
        session, result = self.sell_and_close(self.config_a, 1, 1480.0)
        self.assertTrue(result["successful"])
        self.assertNotIn("ru_cash_limit_warning", result)
        self.assertFalse(self.limit_warnings(session))
        self.assertFalse(session.activity_ids)

    def test_under_or_at_the_limit_no_warning(self):
        """Limit 2 000.00 with 1 480.00, then limit 1 480.00 with 1 480.00 (equal is not over): no warning."""
        self.store_a.ru_cash_limit = 2000.0
        session, result = self.sell_and_close(self.config_a, 1, 1480.0)
        self.assertNotIn("ru_cash_limit_warning", result)
        self.assertFalse(self.limit_warnings(session) or session.activity_ids)
        self.assertAlmostEqual(self.balance(self.store_a.ru_cash_account_id), 1480.0)

        self.store_b.ru_cash_limit = 1480.0
        session, result = self.sell_and_close(self.config_b, 1, 1480.0)
        self.assertNotIn("ru_cash_limit_warning", result)
        self.assertFalse(self.limit_warnings(session) or session.activity_ids)

    def test_the_balance_counts_earlier_sessions(self):
        """Limit 2 000.00: the first session leaves 1 500.00 in the drawer (no warning); the second opens with
        it, takes 1 500.00 more and the cash account holds 3 000.00 → excess 1 000.00."""
        self.store_a.ru_cash_limit = 2000.0
        _first, result = self.sell_and_close(self.config_a, 1, 1500.0)
        self.assertNotIn("ru_cash_limit_warning", result)
        second, result = self.sell_and_close(self.config_a, 1, 3000.0, opening=1500.0)
        self.assertIn("holds 3,000.00", result["ru_cash_limit_warning"])
        self.assertIn("excess of 1,000.00", result["ru_cash_limit_warning"])
        self.assertEqual(len(second.activity_ids), 1)

    def test_a_cashier_closes_and_the_accountant_gets_the_to_do(self):
        """The cashier (POS user only, no accounting rights) closes: limit 1 000.00, 1 480.00 in the cash
        account → the warning with the excess 480.00 and store A's accountant's To Do."""
        cashier = self.env["res.users"].create(
            {
                "name": "Cashier A",
                "login": "ru_cashier_a",
                "email": "cashier.a@example.com",  # Odoo's closing posts "Session ended" as the cashier
                "groups_id": [
                    Command.set(
                        [self.env.ref("base.group_user").id, self.env.ref("point_of_sale.group_pos_user").id]
                    )
                ],
            }
        )
        self.store_a.ru_cash_limit = 1000.0
        self.config = self.config_a
        session = self.open_new_session(0)
        self.env["pos.order"].create_from_ui([self.create_ui_order_data([(self.frame, 1)])])
        session = session.with_user(cashier)
        session.post_closing_cash_details(1480.0)
        result = session.close_session_from_ui()
        self.assertTrue(result["successful"], result)
        self.assertIn("excess of 480.00", result["ru_cash_limit_warning"])
        self.assertEqual(session.sudo().activity_ids.user_id, self.accountant_a)

    def test_closing_from_the_back_office_warns_too(self):
        """Closed by "Close Session & Post Entries" in the back office: same message and To Do."""
        self.store_a.ru_cash_limit = 1000.0
        self.config = self.config_a
        session = self.open_new_session(0)
        self.env["pos.order"].create_from_ui([self.create_ui_order_data([(self.frame, 1)])])
        session.post_closing_cash_details(1480.0)
        session.action_pos_session_closing_control()
        self.assertEqual(session.state, "closed")
        self.assertEqual(len(self.limit_warnings(session)), 1)
        self.assertEqual(session.activity_ids.user_id, self.accountant_a)
