# Tests of the Russian chart's VAT taxes and POS receivable (models/chart_template.py): VAT on 68.02 (sales)
# and 19.03 (purchases), the 22 % taxes as the company's defaults, the tills' FFD 1199 codes, the POS
# receivable 62.P, the entries of an invoice and a bill at 22 %, and the install hook's catch-up of a company
# whose taxes are OCA's (created, adopted, completed; a second run changes nothing).
from unittest.mock import patch

from odoo import fields
from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.tests import tagged

from ..models.chart_template import VAT_TAX_ACCOUNTS

LOGGER = "odoo.addons.ru_accounting_extras.models.chart_template"
#: The accounts the VAT taxes must post to, written out by hand (not read from the module's tables).
SALE_VAT = ("sale_vat_0", "sale_vat_5", "sale_vat_10", "sale_vat_15", "sale_vat_20", "sale_vat_22")
PURCHASE_VAT = tuple(xmlid.replace("sale_", "purchase_") for xmlid in SALE_VAT)
#: The FFD 1.2 tag 1199 codes the tills print (optics_core FFD_VAT_CODES); 15 % has none.
FFD_CODES = {
    "sale_vat_0": "5",
    "sale_vat_5": "7",
    "sale_vat_10": "2",
    "sale_vat_15": False,
    "sale_vat_20": "1",
    "sale_vat_22": "11",
    "sale_vat_exempt": "6",
}


@tagged("post_install", "-at_install")
class TestChartTaxes(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls, chart_template_ref="ru"):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.company = cls.company_data["company"]
        cls.chart = cls.env["account.chart.template"].with_company(cls.company)

    def tax(self, xmlid):
        return self.chart.ref(xmlid)

    def tax_accounts(self, tax):
        """The accounts of a tax's repartition lines, per document type and kind."""
        return {
            (rep.document_type, rep.repartition_type): rep.account_id.code or False
            for rep in tax.repartition_line_ids
        }

    def balances(self, move):
        """Account code → balance of a posted entry (debit positive)."""
        result = {}
        for line in move.line_ids:
            result[line.account_id.code] = result.get(line.account_id.code, 0.0) + line.balance
        return result

    # --- a company loaded with the chart ---

    def assert_vat_accounts(self):
        # Base lines carry no account (the line's own account), tax lines the VAT account; invoice and
        # refund alike (4 lines per tax).
        for xmlids, code in ((SALE_VAT, "68.02"), (PURCHASE_VAT, "19.03")):
            for xmlid in xmlids:
                tax = self.tax(xmlid)
                self.assertEqual(len(tax.repartition_line_ids), 4, xmlid)
                self.assertEqual(
                    self.tax_accounts(tax),
                    {
                        ("invoice", "base"): False,
                        ("invoice", "tax"): code,
                        ("refund", "base"): False,
                        ("refund", "tax"): code,
                    },
                    xmlid,
                )
        self.assertEqual(len(VAT_TAX_ACCOUNTS), 12)
        self.assertEqual(
            (self.chart.ref("ru_acc_68_02").account_type, self.chart.ref("ru_acc_19_03").account_type),
            ("liability_current", "asset_current"),
        )

    def assert_new_taxes_and_defaults(self):
        for xmlid, use in (("sale_vat_22", "sale"), ("purchase_vat_22", "purchase")):
            tax = self.tax(xmlid)
            self.assertRecordValues(
                tax,
                [{"amount": 22.0, "amount_type": "percent", "type_tax_use": use, "price_include": True,
                  "active": True}],
            )  # fmt: skip
            self.assertEqual(tax.with_context(lang="en_US").tax_group_id.name, "VAT 22%")
        exempt = self.tax("sale_vat_exempt")
        self.assertRecordValues(exempt, [{"amount": 0.0, "type_tax_use": "sale", "active": True}])
        self.assertFalse(exempt.repartition_line_ids.account_id)
        for xmlid, code in FFD_CODES.items():
            self.assertEqual(self.tax(xmlid).optics_ffd_vat_code, code, xmlid)
        self.assertEqual(self.company.account_sale_tax_id, self.tax("sale_vat_22"))
        self.assertEqual(self.company.account_purchase_tax_id, self.tax("purchase_vat_22"))
        self.assertEqual(self.chart.ref("tax_group_vat_5").with_context(lang="en_US").name, "VAT 5%")

    def assert_pos_receivable(self):
        receivable = self.company.account_default_pos_receivable_account_id
        self.assertEqual(receivable, self.chart.ref("ru_acc_62_P"))
        self.assertRecordValues(
            receivable, [{"code": "62.P", "account_type": "asset_receivable", "reconcile": True}]
        )

    def test_vat_accounts(self):
        self.assert_vat_accounts()

    def test_new_taxes_and_defaults(self):
        self.assert_new_taxes_and_defaults()

    def test_pos_receivable(self):
        self.assert_pos_receivable()

    def test_customer_invoice_at_22(self):
        """12 200.00 including 22 %: the VAT is 12 200 x 22 / 122 = 2 200.00 on 68.02 (credit), the revenue
        12 200 - 2 200 = 10 000.00 on 90.01.1 (credit), the customer owes 12 200.00 on 62.01."""
        invoice = self.init_invoice(
            "out_invoice", amounts=[12200.0], taxes=self.tax("sale_vat_22"), post=True
        )
        self.assertEqual(self.balances(invoice), {"62.01": 12200.0, "90.01.1": -10000.0, "68.02": -2200.0})
        self.assertEqual(invoice.amount_tax, 2200.0)

    def test_vendor_bill_at_22(self):
        """1 220.00 including 22 %: the VAT is 1 220 x 22 / 122 = 220.00, deductible on 19.03 (debit); the
        goods 1 000.00 on the purchase journal's account 41.01; owed to the supplier 1 220.00 on 60.01."""
        bill = self.init_invoice("in_invoice", amounts=[1220.0], taxes=self.tax("purchase_vat_22"), post=True)
        self.assertEqual(self.balances(bill), {"60.01": -1220.0, "41.01": 1000.0, "19.03": 220.0})

    # --- a company already on the chart: the install hook's catch-up ---

    def reset_to_oca(self):
        """The company's taxes as OCA's chart makes them: no VAT accounts, no FFD codes, no 22 % nor exempt
        taxes, 20 % defaults, no POS receivable, the 5 % group called "VAT 7%"."""
        for xmlid in (*SALE_VAT, *PURCHASE_VAT):
            tax = self.chart.ref(xmlid, raise_if_not_found=False)
            if tax:
                tax.repartition_line_ids.account_id = False
                tax.optics_ffd_vat_code = False
        self.company.write(
            {"account_sale_tax_id": self.tax("sale_vat_20").id,
             "account_purchase_tax_id": self.tax("purchase_vat_20").id,
             "account_default_pos_receivable_account_id": False}
        )  # fmt: skip
        # The 22 % and exempt taxes with their groups, and the test fixture's copies of the default taxes
        # (tax_sale_b, tax_purchase_b) and its fiscal positions' mappings of them.
        groups = self.chart.ref("tax_group_vat_22") | self.chart.ref("tax_group_vat_exempt")
        new_taxes = (
            self.env["account.tax"]
            .with_context(active_test=False)
            .search([("tax_group_id", "in", groups.ids)])
        )
        self.assertIn(self.tax("sale_vat_22"), new_taxes)
        self.env["account.fiscal.position.tax"].search(
            ["|", ("tax_src_id", "in", new_taxes.ids), ("tax_dest_id", "in", new_taxes.ids)]
        ).unlink()
        new_taxes.unlink()
        groups.unlink()
        self.chart.ref("tax_group_vat_5").with_context(lang="en_US").name = "VAT 7%"
        for xmlid in ("sale_vat_22", "purchase_vat_22", "sale_vat_exempt", "tax_group_vat_22"):
            self.assertFalse(self.chart.ref(xmlid, raise_if_not_found=False), xmlid)

    def count_writes(self):
        """Patches counting the writes and creations of taxes, their lines and groups, and the company."""
        calls = []
        patches = []
        for model in ("account.tax", "account.tax.repartition.line", "account.tax.group", "res.company"):
            cls = type(self.env[model])

            def write(records, vals, _model=model, _write=cls.write):
                calls.append((_model, "write", tuple(vals)))
                return _write(records, vals)

            def create(records, vals_list, _model=model, _create=cls.create):
                calls.append((_model, "create"))
                return _create(records, vals_list)

            patches += [patch.object(cls, "write", write), patch.object(cls, "create", create)]
        return calls, patches

    def test_apply_restores_a_company_on_oca_taxes(self):
        # Russian active, so the created records get their Russian names from the template.
        self.env["res.lang"]._activate_lang("ru_RU")
        self.reset_to_oca()
        taxes_before = (
            self.env["account.tax"]
            .with_context(active_test=False)
            .search_count([("company_id", "=", self.company.id)])
        )
        self.chart._ru_accounting_extras_apply(self.company)
        self.assert_vat_accounts()
        self.assert_new_taxes_and_defaults()
        self.assert_pos_receivable()
        # Three taxes created (sale and purchase 22 %, VAT exempt), none twice.
        Tax = self.env["account.tax"].with_context(active_test=False)
        self.assertEqual(Tax.search_count([("company_id", "=", self.company.id)]), taxes_before + 3)
        # Named from the template, in Russian too; the 5 % group renamed in both languages.
        self.assertEqual(self.tax("sale_vat_exempt").with_context(lang="ru_RU").name, "Без НДС")
        self.assertEqual(self.tax("sale_vat_22").with_context(lang="ru_RU").name, "НДС 22%")
        self.assertEqual(self.chart.ref("tax_group_vat_5").with_context(lang="ru_RU").name, "НДС 5%")

        calls, patches = self.count_writes()
        for p in patches:
            p.start()
        try:
            self.chart._ru_accounting_extras_apply(self.company)
        finally:
            for p in patches:
                p.stop()
        self.assertEqual(calls, [])
        self.assertEqual(Tax.search_count([("company_id", "=", self.company.id)]), taxes_before + 3)

    def test_apply_adopts_the_company_own_taxes(self):
        """A company that made its own 22 % sale tax and its own exempt tax (FFD 6) before the module gets
        them as the chart's, completed (VAT account, FFD code, default), not a second one."""
        self.reset_to_oca()
        own = self.env["account.tax"].create(
            {"name": "НДС 22 % (свой)", "amount": 22.0, "amount_type": "percent", "type_tax_use": "sale",
             "price_include": True, "company_id": self.company.id}
        )  # fmt: skip
        own_exempt = self.env["account.tax"].create(
            {"name": "Без НДС (свой)", "amount": 0.0, "type_tax_use": "sale", "optics_ffd_vat_code": "6",
             "company_id": self.company.id}
        )  # fmt: skip
        self.chart._ru_accounting_extras_apply(self.company)
        self.assertEqual(self.tax("sale_vat_22"), own)
        self.assertEqual(self.tax("sale_vat_exempt"), own_exempt)
        self.assertEqual(own.optics_ffd_vat_code, "11")
        self.assertEqual(self.tax_accounts(own)[("invoice", "tax")], "68.02")
        self.assertEqual(self.company.account_sale_tax_id, own)
        sale_22 = self.env["account.tax"].search_count(
            [("company_id", "=", self.company.id), ("type_tax_use", "=", "sale"), ("amount", "=", 22.0)]
        )
        self.assertEqual(sale_22, 1)
        # The purchase 22 % had no equivalent: created.
        self.assertEqual(self.tax_accounts(self.tax("purchase_vat_22"))[("invoice", "tax")], "19.03")

    def test_apply_keeps_the_company_choices(self):
        """A default tax other than OCA's 20 %, a POS receivable and a VAT account the company set stay."""
        self.reset_to_oca()
        receivable = self.env["account.account"].create(
            {"code": "62.POS", "name": "POS (own)", "account_type": "asset_receivable", "reconcile": True,
             "company_id": self.company.id}
        )  # fmt: skip
        own_vat = self.env["account.account"].create(
            {"code": "68.02.10", "name": "VAT 10% (own)", "account_type": "liability_current",
             "company_id": self.company.id}
        )  # fmt: skip
        vat_10 = self.tax("sale_vat_10")
        vat_10.invoice_repartition_line_ids.filtered(
            lambda rep: rep.repartition_type == "tax"
        ).account_id = own_vat
        self.company.write(
            {"account_sale_tax_id": vat_10.id, "account_default_pos_receivable_account_id": receivable.id}
        )
        self.chart._ru_accounting_extras_apply(self.company)
        self.assertEqual(self.company.account_sale_tax_id, vat_10)
        self.assertEqual(self.company.account_default_pos_receivable_account_id, receivable)
        # The invoice line keeps its 68.02.10; the empty refund line gets 68.02.
        accounts = self.tax_accounts(vat_10)
        self.assertEqual((accounts[("invoice", "tax")], accounts[("refund", "tax")]), ("68.02.10", "68.02"))
        # OCA's 20 % purchase default was replaced.
        self.assertEqual(self.company.account_purchase_tax_id, self.tax("purchase_vat_22"))

    def test_apply_on_a_used_tax_warns(self):
        """A tax already used with OCA's empty accounts gets its account, with a warning: its posted entries
        stay as they were. 1 200.00 incl. 20 %: 1 200 x 20 / 120 = 200.00 of VAT left on 90.01.1 with the
        1 000.00 of revenue (credit 1 200.00 in all)."""
        self.reset_to_oca()
        vat_20 = self.tax("sale_vat_20")
        invoice = self.init_invoice(
            "out_invoice", amounts=[1200.0], taxes=vat_20, post=True, invoice_date=fields.Date.today()
        )
        self.assertEqual(self.balances(invoice), {"62.01": 1200.0, "90.01.1": -1200.0})
        with self.assertLogs(LOGGER, "WARNING") as logs:
            self.chart._ru_accounting_extras_apply(self.company)
        self.assertEqual(len(logs.records), 1)
        self.assertIn(vat_20.name, logs.output[0])
        self.assertIn("68.02", logs.output[0])
        self.assertEqual(self.tax_accounts(vat_20)[("invoice", "tax")], "68.02")
        invoice.invalidate_recordset()
        self.assertEqual(self.balances(invoice), {"62.01": 1200.0, "90.01.1": -1200.0})

    def test_reloading_the_chart_keeps_the_taxes(self):
        """Loading the chart again on the company (Odoo's template reload) creates no second tax and keeps
        the VAT accounts, codes and defaults."""
        Tax = self.env["account.tax"].with_context(active_test=False)
        before = Tax.search_count([("company_id", "=", self.company.id)])
        self.env["account.chart.template"].try_loading("ru", self.company, install_demo=False)
        self.assertEqual(Tax.search_count([("company_id", "=", self.company.id)]), before)
        self.assert_vat_accounts()
        self.assert_new_taxes_and_defaults()
        self.assert_pos_receivable()
