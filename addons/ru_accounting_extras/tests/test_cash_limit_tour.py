# Tests of the cash-limit warning in the POS closing popup: the closing data the popup gets from
# pos.session.get_closing_control_data (the store's limit and its cash other than the drawer's), and a
# Chromium tour of a non-fiscal POS typing the counted cash into the popup.
from odoo import Command
from odoo.addons.optics_pos_ru54fz.tests.quiet_http import QuietAfterBrowser
from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon
from odoo.tests import tagged
from odoo.tools import html2plaintext
from odoo.tools.misc import format_amount

from .store_cash_common import StoreCashCommon


@tagged("post_install", "-at_install")
class TestCashLimitClosingData(StoreCashCommon):
    @classmethod
    def setUpClass(cls, chart_template_ref="ru"):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.store_a.action_ru_setup_cash()
        cls.account_a = cls.store_a.ru_cash_account_id

    def closing_data(self, config, opening=0.0):
        self.config = config
        session = self.open_new_session(opening)
        return session, session.get_closing_control_data()

    def test_other_cash_is_the_account_less_the_drawer(self):
        """Limit 2 000.00. Session 1: nothing posted yet → other cash 0.00; it sells a frame (1 500.00) and
        closes with 1 500.00 counted. Then 250.00 more reach the cash account (another entry). Session 2
        opens with the 1 500.00, takes 100.00 cash in and sells a frame for 1 500.00:
        posted now = 1 500.00 + 250.00 + 100.00 (the cash in is posted at once) = 1 850.00;
        the drawer's part already posted = opening 1 500.00 + cash in 100.00 = 1 600.00;
        other cash = 1 850.00 − 1 600.00 = 250.00. Counting the expected 3 100.00, the popup warns
        250.00 + 3 100.00 − 2 000.00 = 1 350.00 over, as does the server after the close (3 350.00)."""
        self.store_a.ru_cash_limit = 2000.0
        first, data = self.closing_data(self.config_a)
        self.assertEqual((data["ru_cash_limit"], data["ru_cash_other"]), (2000.0, 0.0))
        self.env["pos.order"].create_from_ui([self.create_ui_order_data([(self.frame, 1)])])
        first.post_closing_cash_details(1500.0)
        self.assertTrue(first.close_session_from_ui()["successful"])

        entry = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": self.company_data["default_journal_misc"].id,
                "line_ids": [
                    Command.create({"account_id": self.account_a.id, "debit": 250.0}),
                    Command.create({"account_id": self.chart.ref("ru_acc_91_01").id, "credit": 250.0}),
                ],
            }
        )
        entry.action_post()

        self.config = self.config_a
        second = self.open_new_session(1500.0)
        second.try_cash_in_out("in", 100.0, "change fund", {"translatedType": "in"})
        self.env["pos.order"].create_from_ui([self.create_ui_order_data([(self.frame, 1)])])
        data = second.get_closing_control_data()
        self.assertEqual(data["default_cash_details"]["amount"], 3100.0)  # 1 500 + 100 + 1 500
        self.assertAlmostEqual(self.balance(self.account_a), 1850.0)
        self.assertEqual(data["ru_cash_limit"], 2000.0)
        self.assertAlmostEqual(data["ru_cash_other"], 250.0)

        second.post_closing_cash_details(3100.0)
        result = second.close_session_from_ui()
        self.assertAlmostEqual(self.balance(self.account_a), data["ru_cash_other"] + 3100.0)
        self.assertIn("holds 3,350.00", result["ru_cash_limit_warning"])
        self.assertIn("excess of 1,350.00", result["ru_cash_limit_warning"])

    def test_nothing_to_check_without_the_store_cash(self):
        """The popup checks nothing (limit 0) when the store has no limit, no cash account, or a cash
        account the till's cash is not booked to; 500.00 on the accounts change none of it."""
        _session, data = self.closing_data(self.config_a)
        self.assertEqual((data["ru_cash_limit"], data["ru_cash_other"]), (0.0, 0.0))  # store A: no limit

        self.store_b.ru_cash_limit = 1000.0
        _session, data = self.closing_data(self.config_b)
        self.assertEqual(data["ru_cash_limit"], 0.0)  # store B: no cash account
        self.assertTrue(data["default_cash_details"])

        # Store B's cash account, but its till's cash still on the old journal (50.01): not set up.
        self.store_b.ru_cash_account_id = self.env["account.account"].create(
            {"code": "50.01.77", "name": "Cash B by hand", "account_type": "asset_cash"}
        )
        entry = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": self.company_data["default_journal_misc"].id,
                "line_ids": [
                    Command.create({"account_id": self.store_b.ru_cash_account_id.id, "debit": 500.0}),
                    Command.create({"account_id": self.chart.ref("ru_acc_91_01").id, "credit": 500.0}),
                ],
            }
        )
        entry.action_post()
        self.assertEqual(self.config_b.current_session_id.get_closing_control_data()["ru_cash_limit"], 0.0)
        # Once the till's cash goes to that account (the set-up, with no session open), it is checked.
        self.config_b.current_session_id.post_closing_cash_details(0.0)
        self.config_b.current_session_id.close_session_from_ui()
        self.store_b.action_ru_setup_cash()
        _session, data = self.closing_data(self.config_b)
        self.assertEqual((data["ru_cash_limit"], data["ru_cash_other"]), (1000.0, 500.0))


@tagged("post_install", "-at_install")
class TestCashLimitTour(QuietAfterBrowser, TestPointOfSaleHttpCommon):
    browser_size = "1920,1080"  # the desktop POS layout (see optics_pos_ru54fz's test_pos_fiscal.py)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        config = cls.main_pos_config
        # One cash method (Odoo's test POS has two): the drawer the popup counts.
        cash = config.payment_method_ids.filtered("is_cash_count")[:1]
        config.payment_method_ids -= config.payment_method_ids.filtered("is_cash_count") - cash
        # The test company is on the generic chart: the till's own cash account stands for the store's
        # 50.01.NN (the set-up action wants the Russian chart), holding 800.00 posted; limit 1 000.00.
        cls.account = cash.journal_id.default_account_id
        cls.store = config.picking_type_id.warehouse_id
        cls.store.write({"ru_cash_account_id": cls.account.id, "ru_cash_limit": 1000.0})
        entry = cls.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": cls.company_data["default_journal_misc"].id,
                "line_ids": [
                    Command.create({"account_id": cls.account.id, "debit": 800.0}),
                    Command.create(
                        {"account_id": cls.company_data["default_account_revenue"].id, "credit": 800.0}
                    ),
                ],
            }
        )
        entry.action_post()

    def test_the_cashier_sees_the_excess_while_counting(self):
        """800.00 posted, limit 1 000.00, nothing sold: the tour counts 150 and 200 (no warning), then 300
        (warning, excess 800.00 + 300.00 − 1 000.00 = 100.00) and closes. The session closed with 300.00
        counted shows the tour ran to its end; the server's warning after the close agrees."""
        config = self.main_pos_config
        self.assertFalse(config.optics_fiscal)  # no till needed
        self.assertTrue(config.cash_control)
        config.with_user(self.pos_user).open_ui()
        session = config.current_session_id
        data = session.with_user(self.pos_user).get_closing_control_data()
        self.assertEqual((data["ru_cash_limit"], data["ru_cash_other"]), (1000.0, 800.0))

        self.start_tour(f"/pos/ui?config_id={config.id}", "ru_cash_limit_closing", login="pos_user")

        self.env.invalidate_all()
        self.assertEqual(session.state, "closed")
        self.assertEqual(session.cash_register_balance_end_real, 300.0)
        lines = self.env["account.move.line"].search(
            [("account_id", "=", self.account.id), ("parent_state", "=", "posted")]
        )
        self.assertAlmostEqual(sum(lines.mapped("balance")), 1100.0)  # 800 + 300 (cash over at close)
        excess = format_amount(self.env, 100.0, session.currency_id)
        # The chatter stores the no-break space of the amounts as &nbsp;: compare the text.
        warnings = session.message_ids.filtered(
            lambda m: f"excess of {excess} must" in html2plaintext(m.body)
        )
        self.assertEqual(len(warnings), 1, session.message_ids.mapped("body"))
