# Common set-up of the store cash tests: a company on the Russian chart, two stores (warehouses), a POS per
# store with its own cash payment method on the chart's cash journal (50.01) and a shared card method, a
# product at a round price, and helpers to sell for cash and close a session with a counted amount.
from odoo import Command
from odoo.addons.point_of_sale.tests.common import TestPoSCommon


class StoreCashCommon(TestPoSCommon):
    @classmethod
    def setUpClass(cls, chart_template_ref="ru"):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.chief = cls.env.ref("ru_accounting_extras.group_chief_accountant")
        cls.env.user.sudo().groups_id = [Command.link(cls.chief.id)]
        cls.chart = cls.env["account.chart.template"].with_company(cls.company)
        Warehouse = cls.env["stock.warehouse"]
        cls.store_a = Warehouse.create({"name": "Store A", "code": "STA", "company_id": cls.company.id})
        cls.store_b = Warehouse.create({"name": "Store B", "code": "STB", "company_id": cls.company.id})
        # Odoo wants a cash method per POS and a cash journal per cash method: before set-up, each till's
        # cash goes to a journal of its own on the chart's 50.01.
        cls.cash_a = cls._old_cash_method("A")
        cls.cash_b = cls._old_cash_method("B")
        cls.card = cls.bank_pm1
        cls.config_a = cls._store_config("Till A", cls.store_a, cls.cash_a | cls.card)
        cls.config_b = cls._store_config("Till B", cls.store_b, cls.cash_b | cls.card)
        # No tax: the session's figures are the prices (1 500.00 = one frame).
        cls.frame = cls.env["product.product"].create(
            {
                "name": "Frame",
                "type": "consu",
                "available_in_pos": True,
                "lst_price": 1500.0,
                "taxes_id": [Command.clear()],
            }
        )

    @classmethod
    def _old_cash_method(cls, letter):
        journal = cls.env["account.journal"].create(
            {
                "name": f"Old cash {letter}",
                "type": "cash",
                "code": f"OLD{letter}",
                "default_account_id": cls.chart.ref("ru_acc_50_01").id,
                "profit_account_id": cls.chart.ref("ru_acc_91_01").id,
                "loss_account_id": cls.chart.ref("ru_acc_94").id,
            }
        )
        return cls.cash_pm1.copy({"name": f"Cash {letter}", "journal_id": journal.id})

    @classmethod
    def _store_config(cls, name, store, methods):
        return cls.env["pos.config"].create(
            {
                "name": name,
                "picking_type_id": store.pos_type_id.id,
                "journal_id": cls.pos_sale_journal.id,
                "invoice_journal_id": cls.invoice_journal.id,
                "available_pricelist_ids": cls.currency_pricelist.ids,
                "pricelist_id": cls.currency_pricelist.id,
                "cash_control": True,
                "payment_method_ids": [Command.set(methods.ids)],
            }
        )

    def cash_methods(self, config):
        return config.payment_method_ids.filtered("is_cash_count")

    def balance(self, account):
        """Posted balance of an account (Dt − Ct)."""
        lines = self.env["account.move.line"].search(
            [("account_id", "=", account.id), ("parent_state", "=", "posted")]
        )
        return sum(lines.mapped("balance"))

    def sell_and_close(self, config, frames, counted, opening=0.0):
        """Open a session of `config` with `opening` in the drawer (what the last session left, else the
        difference is posted), sell `frames` frames for cash, count `counted`
        and close it from the POS; returns (session, close_session_from_ui's result)."""
        self.config = config
        session = self.open_new_session(opening)
        for _i in range(frames):
            self.env["pos.order"].create_from_ui([self.create_ui_order_data([(self.frame, 1)])])
        session.post_closing_cash_details(counted)
        result = session.close_session_from_ui()
        return session, result
