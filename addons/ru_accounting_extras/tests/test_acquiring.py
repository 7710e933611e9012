# Tests of card takings on 57.03: a card acquiring method's POS takings land on 57.03 at the session
# close, and the acquirer's settlement (net of its 1.8 % fee) clears them with the fee on 44.01; wrong
# settlements are refused and nothing is cleared twice.
from odoo.addons.point_of_sale.tests.common import TestPoSCommon
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged


@tagged("post_install", "-at_install")
class TestAcquiring(TestPoSCommon):
    @classmethod
    def setUpClass(cls, chart_template_ref="ru"):
        super().setUpClass(chart_template_ref=chart_template_ref)
        chart = cls.env["account.chart.template"].with_company(cls.company)
        cls.card_sales = chart.ref("ru_acc_57_03")
        cls.selling_expenses = chart.ref("ru_acc_44_01")
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.card = cls.env["pos.payment.method"].create(
            {
                "name": "Card (acquiring)",
                "journal_id": cls.bank_journal.id,
                "ru_acquiring": True,
                "ru_acquiring_fee_percent": 1.8,
            }
        )
        cls.basic_config.payment_method_ids = [(4, cls.card.id)]
        cls.frame = cls.create_product("Frame", cls.categ_basic, 3000.0)
        cls.case = cls.create_product("Case", cls.categ_basic, 2000.0)

    def setUp(self):
        super().setUp()
        self.config = self.basic_config
        self.session = self.open_new_session()
        for product, price in ((self.frame, 3000.0), (self.case, 2000.0)):
            data = self.create_ui_order_data([(product, 1)], payments=[(self.card, price)])
            self.env["pos.order"].create_from_ui([data])
        self.session.post_closing_cash_details(0.0)
        self.assertTrue(self.session.close_session_from_ui()["successful"])
        self.takings = self.env["account.move.line"].search(
            [("payment_id.pos_session_id", "=", self.session.id), ("account_id", "=", self.card_sales.id)]
        )

    def settlement(self, amount):
        return self.env["account.bank.statement.line"].create(
            {"journal_id": self.bank_journal.id, "amount": amount, "payment_ref": "Acquirer settlement"}
        )

    def balance(self, account):
        lines = self.env["account.move.line"].search(
            [("account_id", "=", account.id), ("parent_state", "=", "posted")]
        )
        return sum(lines.mapped("balance"))

    def test_card_method_books_on_57_03_with_fee_on_44_01(self):
        self.assertEqual(self.card.outstanding_account_id, self.card_sales)
        self.assertEqual(self.card.ru_acquiring_fee_account_id, self.selling_expenses)
        # 3 000.00 + 2 000.00 paid by card in one session: Dt 57.03 5 000.00 at the close.
        self.assertEqual(sum(self.takings.mapped("debit")), 5000.0)
        self.assertEqual(self.balance(self.card_sales), 5000.0)
        self.assertFalse(any(self.takings.mapped("reconciled")))

    def test_settlement_clears_the_takings_and_books_the_fee(self):
        # Fee 1.8 % of 5 000.00 = 90.00; the acquirer pays 5 000.00 - 90.00 = 4 910.00.
        line = self.settlement(4910.0)
        line.action_ru_clear_acquiring(self.session)
        self.assertTrue(line.is_reconciled)
        self.assertEqual(self.balance(self.card_sales), 0.0)
        self.assertTrue(self.takings.full_reconcile_id)
        self.assertTrue(all(self.takings.mapped("reconciled")))
        self.assertEqual(self.balance(self.selling_expenses), 90.0)
        bank = line.move_id.line_ids.filtered(
            lambda aml: aml.account_id == self.bank_journal.default_account_id
        )
        self.assertEqual(bank.balance, 4910.0)
        cleared = line.move_id.line_ids.filtered(lambda aml: aml.account_id == self.card_sales)
        self.assertEqual(
            (cleared.credit, cleared.full_reconcile_id), (5000.0, self.takings.full_reconcile_id)
        )

    def test_the_wizard_shows_the_fee_and_clears(self):
        self.env.user.groups_id |= self.env.ref("ru_accounting_extras.group_store_accountant")
        line = self.settlement(4910.0)
        form = Form(
            self.env["ru.acquiring.clearing"].with_context(active_model=line._name, active_id=line.id)
        )
        form.session_ids.add(self.session)
        wizard = form.save()
        self.assertEqual(wizard.line_ids, self.takings)
        # gross 5 000.00, net 4 910.00, fee 90.00 = 1.8 % x 5 000.00.
        self.assertEqual(
            (wizard.amount_gross, wizard.amount_net, wizard.amount_fee, wizard.amount_fee_expected),
            (5000.0, 4910.0, 90.0, 90.0),
        )
        wizard.action_clear()
        self.assertTrue(line.is_reconciled)
        self.assertEqual(self.balance(self.card_sales), 0.0)

    def test_a_fee_far_from_the_rate_is_refused(self):
        # 4 700.00 implies a fee of 300.00; the rate gives 90.00, the tolerance is 0.5 % x 5 000.00 = 25.00.
        line = self.settlement(4700.0)
        with self.assertRaisesRegex(UserError, "fee of 300"):
            line.action_ru_clear_acquiring(self.session)
        # Within the tolerance: 4 890.00 implies 110.00, 20.00 from 90.00.
        self.settlement(4890.0).action_ru_clear_acquiring(self.session)
        self.assertEqual(self.balance(self.selling_expenses), 110.0)

    def test_a_settlement_above_the_takings_is_refused(self):
        line = self.settlement(5100.0)
        with self.assertRaisesRegex(UserError, "more than the card takings"):
            line.action_ru_clear_acquiring(self.session)
        self.assertFalse(line.is_reconciled)
        self.assertEqual(self.balance(self.card_sales), 5000.0)

    def test_clearing_twice_is_refused(self):
        line = self.settlement(4910.0)
        line.action_ru_clear_acquiring(self.session)
        with self.assertRaisesRegex(UserError, "already reconciled"):
            line.action_ru_clear_acquiring(self.takings)
        with self.assertRaisesRegex(UserError, "No card takings"):
            self.settlement(4910.0).action_ru_clear_acquiring(self.session.filtered(lambda s: False))
        with self.assertRaisesRegex(UserError, "already cleared"):
            self.settlement(4910.0).action_ru_clear_acquiring(self.takings)
        self.assertEqual(self.balance(self.selling_expenses), 90.0)

    def test_method_rules(self):
        with self.assertRaisesRegex(ValidationError, "bank journal"):
            self.env["pos.payment.method"].create(
                {"name": "Card on cash", "journal_id": self.company_data["default_journal_cash"].id,
                 "ru_acquiring": True}
            )  # fmt: skip
        with self.assertRaisesRegex(ValidationError, "leave the outstanding account"):
            self.card.outstanding_account_id = self.outstanding_bank
        # 18 typed for 1.8: above the 10 % no acquirer charges.
        with self.assertRaisesRegex(ValidationError, "between 0 and 10"):
            self.card.ru_acquiring_fee_percent = 18.0
