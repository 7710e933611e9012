# Tests of glasses-job advances on 62.02 through the real POS flow (create_from_ui, session close): the
# advance is a debt to the customer (Ct 62.02) with its VAT accrued on 76.AB/68.02, the pickup offsets it
# (Dt 62.02), restores the VAT and books the goods' revenue on 90.01.1, and the job's 62.02 and 76.AB items
# reconcile.
from odoo.addons.point_of_sale.tests.common import TestPoSCommon
from odoo.addons.ru_accounting_extras.hooks import _ru_setup_advances
from odoo.tests import tagged

JOB = "GJ-26-00042"


@tagged("post_install", "-at_install")
class TestAdvances(TestPoSCommon):
    @classmethod
    def setUpClass(cls, chart_template_ref="ru"):
        super().setUpClass(chart_template_ref=chart_template_ref)
        chart = cls.env["account.chart.template"].with_company(cls.company)
        cls.advances = chart.ref("ru_acc_62_02")
        cls.revenue = chart.ref("ru_acc_90_01_1")
        cls.vat_payable = chart.ref("ru_acc_68_02")
        cls.advance_vat = chart.ref("ru_acc_76_AB")
        # Sunglasses: VAT 22 % included in the price (FFD 1199 code 11; their advance is at 22/122, code 12):
        # the chart's own tax (models/chart_template.py NEW_TAXES), its VAT on 68.02.
        cls.vat22 = chart.ref("sale_vat_22")
        cls.goods = cls.create_product("Sunglasses", cls.categ_basic, 10500.0, tax_ids=cls.vat22.ids)
        cls.advance_product = cls.env.ref("optics_pos_ru54fz.product_job_advance")
        # The prepayment offset as Odoo's "customer account" method, identifying the customer.
        cls.offset = cls.env["pos.payment.method"].create(
            {"name": "Prepayment offset", "optics_prepayment_offset": True, "split_transactions": True}
        )
        cls.basic_config.payment_method_ids = [(4, cls.offset.id)]

    def setUp(self):
        super().setUp()
        self.config = self.basic_config

    def push(self, data):
        return self.env["pos.order"].browse([o["id"] for o in self.env["pos.order"].create_from_ui([data])])

    def advance_order(self, amount, refund_of=None):
        """The POS's advance receipt of JOB: one advance line at 22/122 (1199 = 12, 1214 = 2), paid cash."""
        quantity = -1 if refund_of else 1
        data = self.create_ui_order_data(
            [(self.advance_product, quantity)],
            customer=self.customer,
            payments=[(self.cash_pm1, amount * quantity)],
        )
        data["data"]["lines"][0][2].update(
            price_unit=amount,
            price_subtotal=amount * quantity,
            price_subtotal_incl=amount * quantity,
            optics_advance_vat=12,
            optics_advance_method=2,
        )
        data["data"].update(amount_total=amount * quantity, amount_tax=0.0, optics_job_ref=JOB)
        return self.push(data)

    def pickup_order(self, offset, cash):
        data = self.create_ui_order_data(
            [(self.goods, 1)], customer=self.customer, payments=[(self.offset, offset), (self.cash_pm1, cash)]
        )
        data["data"]["optics_job_ref"] = JOB
        return self.push(data)

    def close(self, session):
        cash = sum(
            session.order_ids.payment_ids.filtered(lambda p: p.payment_method_id == self.cash_pm1).mapped(
                "amount"
            )
        )
        # The drawer holds what it held at the opening and the session's cash: no cash difference.
        session.post_closing_cash_details(session.cash_register_balance_start + cash)
        self.assertTrue(session.close_session_from_ui()["successful"])

    def job_lines(self, account):
        return self.env["account.move.line"].search(
            [("ru_job_ref", "=", JOB), ("account_id", "=", account.id), ("parent_state", "=", "posted")]
        )

    def cash_in(self, session):
        cash_account = self.cash_pm1.journal_id.default_account_id
        return sum(
            session.statement_line_ids.move_id.line_ids.filtered(
                lambda aml: aml.account_id == cash_account
            ).mapped("balance")
        )

    def test_setup(self):
        self.assertEqual(
            self.advance_product.with_company(self.company).property_account_income_id, self.advances
        )
        self.assertEqual(self.offset.receivable_account_id, self.advances)
        self.assertEqual(
            (self.advance_vat.code, self.advance_vat.account_type, self.advance_vat.reconcile),
            ("76.AB", "asset_current", True),
        )
        # The install hook's function repairs what was changed and creates nothing twice.
        self.advance_product.with_company(self.company).property_account_income_id = self.revenue
        self.offset.receivable_account_id = self.pos_receivable_account
        self.advance_vat.account_type = "expense"
        _ru_setup_advances(self.env)
        _ru_setup_advances(self.env)
        self.assertEqual(
            self.advance_product.with_company(self.company).property_account_income_id, self.advances
        )
        self.assertEqual(self.offset.receivable_account_id, self.advances)
        self.assertEqual((self.advance_vat.account_type, self.advance_vat.reconcile), ("asset_current", True))

    def test_advance_then_pickup(self):
        # The advance: 4 000.00 in cash.
        first = self.open_new_session()
        self.advance_order(4000.0)
        self.close(first)
        advance = self.job_lines(self.advances)
        # Ct 62.02 4 000.00 in full (the debt to the customer), the customer on the line.
        self.assertRecordValues(advance, [{"credit": 4000.0, "debit": 0.0, "partner_id": self.customer.id}])
        self.assertEqual(advance.move_id, first.move_id)
        # Its VAT at 22/122 apart: 4 000.00 x 22 / 122 = 721.311... = 721.31, Dt 76.AB Ct 68.02.
        self.assertAlmostEqual(sum(self.job_lines(self.advance_vat).mapped("balance")), 721.31, places=2)
        self.assertAlmostEqual(sum(self.job_lines(self.vat_payable).mapped("balance")), -721.31, places=2)
        self.assertEqual(self.cash_in(first), 4000.0)
        self.assertFalse(first.move_id.line_ids.filtered(lambda aml: aml.account_id == self.revenue))

        # The pickup: goods 10 500.00 incl. VAT, offset 4 000.00, cash 6 500.00.
        second = self.open_new_session(opening_cash=4000.0)  # the drawer still holds the advance
        self.pickup_order(4000.0, 6500.0)
        self.close(second)
        lines = self.job_lines(self.advances)
        self.assertEqual(len(lines), 2)
        self.assertAlmostEqual(sum(lines.mapped("balance")), 0.0, places=2)
        self.assertTrue(lines.full_reconcile_id)
        self.assertEqual(len(lines.full_reconcile_id), 1)
        vat_lines = self.job_lines(self.advance_vat)
        self.assertAlmostEqual(sum(vat_lines.mapped("balance")), 0.0, places=2)
        self.assertEqual(len(vat_lines.full_reconcile_id), 1)
        move_lines = second.move_id.line_ids
        # Revenue: 10 500.00 / 1.22 = 8 606.557... = 8 606.56; VAT 10 500.00 - 8 606.56 = 1 893.44.
        revenue = move_lines.filtered(lambda aml: aml.account_id == self.revenue)
        self.assertAlmostEqual(sum(revenue.mapped("balance")), -8606.56, places=2)
        tax = move_lines.filtered(lambda aml: aml.account_id == self.vat_payable and aml.tax_line_id)
        self.assertAlmostEqual(sum(tax.mapped("balance")), -1893.44, places=2)
        # 68.02 over the job: 721.31 accrued + 1 893.44 at pickup - 721.31 restored = the goods' 1 893.44.
        all_vat = self.env["account.move.line"].search([("account_id", "=", self.vat_payable.id)])
        self.assertEqual(round(sum(all_vat.mapped("balance")), 2), -1893.44)
        self.assertEqual(self.cash_in(second), 6500.0)

    def test_refunded_advance_in_the_same_session_leaves_nothing(self):
        # A cancelled job: the advance of 1 220.00 and its refund in one session
        # (VAT 1 220.00 x 22/122 = 220.00).
        session = self.open_new_session()
        order = self.advance_order(1220.0)
        self.advance_order(1220.0, refund_of=order)
        self.close(session)
        lines = self.job_lines(self.advances)
        self.assertEqual(sorted(lines.mapped("balance")), [-1220.0, 1220.0])
        self.assertTrue(all(lines.mapped("reconciled")))
        vat_lines = self.job_lines(self.advance_vat)
        self.assertEqual(sorted(vat_lines.mapped("balance")), [-220.0, 220.0])
        self.assertTrue(all(vat_lines.mapped("reconciled")))
        self.assertEqual(self.cash_in(session), 0.0)
