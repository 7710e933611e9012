# Common set-up of the cash transfer tests: a company on the ru chart, two stores with cash set up, 10 000.00
# in store A's cash, a store accountant for each store and the chief accountant; helpers for balances.
from datetime import timedelta

from odoo import fields
from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.tests import new_test_user


class CashTransferCase(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls, chart_template_ref="ru"):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.company = cls.company_data["company"]
        chart = cls.env["account.chart.template"].with_company(cls.company)
        cls.transit = chart.ref("ru_acc_57_01")
        cls.today = fields.Date.context_today(cls.env.user)
        warehouses = cls.env["stock.warehouse"].sudo().with_company(cls.company)
        cls.store_a = warehouses.create({"name": "Store A", "code": "STA", "company_id": cls.company.id})
        cls.store_b = warehouses.create({"name": "Store B", "code": "STB", "company_id": cls.company.id})
        (cls.store_a | cls.store_b).action_ru_setup_cash()
        cls.cash_a = cls.store_a.ru_cash_account_id
        cls.cash_b = cls.store_b.ru_cash_account_id
        cls.bank = cls.company_data["default_journal_bank"]
        # Store A's takings: 10 000.00 in its cash ten days ago, Dt 50.01.01 Ct 90.01.1.
        opening = cls.env["account.move"].create(
            {
                "journal_id": cls.company_data["default_journal_misc"].id,
                "date": cls.today - timedelta(days=10),
                "line_ids": [
                    (0, 0, {"account_id": cls.cash_a.id, "debit": 10000.0, "credit": 0.0}),
                    (0, 0, {"account_id": chart.ref("ru_acc_90_01_1").id, "debit": 0.0, "credit": 10000.0}),
                ],
            }
        )
        opening.action_post()

        def user(login, group, stores):
            return new_test_user(
                cls.env,
                login,
                groups=f"base.group_user,ru_accounting_extras.{group}",
                company_id=cls.company.id,
                company_ids=[(6, 0, cls.company.ids)],
                optics_store_ids=[(6, 0, stores.ids)],
            )

        cls.user_a = user("ct_acc_a", "group_store_accountant", cls.store_a)
        cls.user_b = user("ct_acc_b", "group_store_accountant", cls.store_b)
        cls.chief = user("ct_chief", "group_chief_accountant", cls.env["stock.warehouse"])

    # ------------------------------------------------------------------ helpers

    def _transfer(self, user=None, **vals):
        values = {
            "company_id": self.company.id,
            "source_store_id": self.store_a.id,
            "destination_type": "store",
            "destination_store_id": self.store_b.id,
            "amount": 7000.0,
        }
        values.update(vals)
        env = self.env(user=user or self.chief, context={"allowed_company_ids": self.company.ids})
        return env["account.cash.transfer"].create(values)

    def _bank_collection(self):
        """Store A's 4 000.00 handed to the cash-collection service for the bank."""
        return self._transfer(
            self.user_a,
            destination_type="bank",
            destination_store_id=False,
            destination_journal_id=self.bank.id,
            amount=4000.0,
            carrier="инкассация",
        )

    def _balance(self, account):
        """Posted balance (Dt − Ct) of an account."""
        lines = (
            self.env["account.move.line"]
            .sudo()
            .search([("account_id", "=", account.id), ("parent_state", "=", "posted")])
        )
        return self.company.currency_id.round(sum(lines.mapped("balance")))

    def _lines(self, move):
        """A move's lines as {account code: (debit, credit)}, after checking it is posted and balanced."""
        self.assertEqual(move.state, "posted")
        self.assertAlmostEqual(
            sum(move.line_ids.mapped("debit")), sum(move.line_ids.mapped("credit")), places=2
        )
        return {line.account_id.code: (line.debit, line.credit) for line in move.line_ids}

    def _transit_lines(self, transfer):
        moves = transfer.sent_move_id | transfer.received_move_id | transfer.cancel_move_id
        return moves.line_ids.filtered(lambda line: line.account_id == self.transit)
