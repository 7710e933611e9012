# Tests of the Russian chart's corrections: a company loaded with l10n_ru gets the account types of
# ACCOUNT_TYPES and the perpetual-valuation accounts of STOCK_PROPERTIES.
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.ru_accounting_extras.models.chart_template import ACCOUNT_TYPES, STOCK_PROPERTIES


@tagged("post_install", "-at_install")
class TestChart(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls, chart_template_ref="ru"):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.chart = cls.env["account.chart.template"].with_company(cls.company_data["company"])

    def test_account_types(self):
        for xmlid, (account_type, reconcile, _why) in ACCOUNT_TYPES.items():
            account = self.chart.ref(xmlid)
            self.assertEqual((account.account_type, account.reconcile), (account_type, reconcile), xmlid)

    def test_stock_properties(self):
        category = self.env["product.category"].with_company(self.company_data["company"]).create({"name": "X"})
        for fname, xmlid in STOCK_PROPERTIES.items():
            self.assertEqual(category[fname], self.chart.ref(xmlid), fname)
