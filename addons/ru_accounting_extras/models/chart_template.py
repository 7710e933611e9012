# Corrections of OCA's Russian chart (l10n_ru): the account types this module's entries and reports rely on,
# and the perpetual-valuation accounts of product categories. Applied when the chart is loaded into a
# company, and by the install hook to companies already on it.
from odoo import models
from odoo.addons.account.models.chart_template import template

#: Account (l10n_ru template id) → (its correct type, reconcilable, why). OCA types most non-cash accounts
#: "expense", so balance sheet and profit reports would misplace them. readme/CONFIGURE.md lists the same
#: table for accountants; tests/test_chart.py holds both to these values.
ACCOUNT_TYPES = {
    # Technical account (1C's "000"): the interim of goods received before their bill (stock input).
    "ru_acc_000": ("asset_current", True, "goods received, bill not yet posted"),
    "ru_acc_41_01": ("asset_current", False, "goods in warehouses: the stock valuation account"),
    "ru_acc_41_02": ("asset_current", False, "goods in retail at purchase cost"),
    "ru_acc_42_01": ("asset_current", False, "trade margin (a contra asset of 41)"),
    "ru_acc_44_01": ("expense", False, "selling expenses: the acquirer's fee"),
    "ru_acc_50_01": ("asset_cash", False, "cash of the organisation: parent of the stores' 50.01.NN"),
    "ru_acc_50_02": ("asset_cash", False, "operating cash"),
    "ru_acc_51": ("asset_cash", False, "bank accounts"),
    "ru_acc_57_01": ("asset_current", True, "transfers in transit: cleared when the transfer arrives"),
    "ru_acc_57_03": ("asset_current", True, "card sales: cleared by the acquirer's settlement"),
    "ru_acc_60_01": ("liability_payable", True, "suppliers: the partners' payable account"),
    "ru_acc_62_01": ("asset_receivable", True, "customers: the partners' receivable account"),
    "ru_acc_62_02": ("liability_current", True, "advances received: a debt to the customer until pickup"),
    "ru_acc_68_02": ("liability_current", False, "VAT payable"),
    "ru_acc_90_01_1": ("income", False, "revenue (general tax regime)"),
    "ru_acc_90_02_1": ("expense_direct_cost", False, "cost of sales: the stock output account"),
    "ru_acc_91_01": ("income_other", False, "other income: cash over at close"),
    "ru_acc_91_02": ("expense", False, "other expenses"),
    "ru_acc_94": (
        "asset_current",
        True,
        "shortages: held until charged to the employee (73.02) or written off",
    ),
}

#: Product categories' perpetual valuation on the Russian chart (continental: the delivery posts the cost of
#: sales Dt 90.02.1 Ct 41.01; a receipt Dt 41.01 Ct 000, its bill Dt 000 Ct 60.01).
STOCK_PROPERTIES = {
    "property_stock_valuation_account_id": "ru_acc_41_01",
    "property_stock_account_input_categ_id": "ru_acc_000",
    "property_stock_account_output_categ_id": "ru_acc_90_02_1",
}


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    @template("ru", "account.account")
    def _get_ru_accounting_extras_account_types(self):
        return {
            xmlid: {"account_type": account_type, "reconcile": reconcile}
            for xmlid, (account_type, reconcile, _why) in ACCOUNT_TYPES.items()
        }

    @template("ru")
    def _get_ru_accounting_extras_template_data(self):
        return dict(STOCK_PROPERTIES)

    def _ru_accounting_extras_apply(self, company):
        """Bring a company already on the Russian chart to ACCOUNT_TYPES and STOCK_PROPERTIES (install hook;
        idempotent). Accounts a company deleted are skipped."""
        chart = self.with_company(company)
        for xmlid, (account_type, reconcile, _why) in ACCOUNT_TYPES.items():
            account = chart.ref(xmlid, raise_if_not_found=False)
            if account and (account.account_type, account.reconcile) != (account_type, reconcile):
                account.write({"account_type": account_type, "reconcile": reconcile})
        for fname, xmlid in STOCK_PROPERTIES.items():
            account = chart.ref(xmlid, raise_if_not_found=False)
            if account:
                self.env["ir.property"]._set_default(fname, "product.category", account.id, company=company)
