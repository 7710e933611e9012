# Tests of the Russian chart's corrections: a company loaded with l10n_ru gets the account types of
# ACCOUNT_TYPES and the perpetual-valuation accounts of STOCK_PROPERTIES; the README's tables list exactly
# them; the install hook brings a company loaded before the module to them, and writes nothing a second time.
import csv
import re
from unittest.mock import patch

from odoo import SUPERUSER_ID
from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.ru_accounting_extras.hooks import post_init_hook
from odoo.addons.ru_accounting_extras.models.chart_template import ACCOUNT_TYPES, STOCK_PROPERTIES
from odoo.tests import tagged
from odoo.tools.misc import file_path

#: Reconcilable in the README's tables.
YES_NO = {"да": True, "нет": False}
#: An Odoo technical name in backquotes: `asset_current` (Markdown) or ``asset_current`` (RST).
TECHNICAL = re.compile(r"`+([a-z_]+)`+")


def table_rows(path):
    """The cells of every one-line table row of a Markdown or RST grid table (rows open with '|')."""
    with open(file_path(path), encoding="utf-8") as f:
        return [
            [cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in f
            if line.startswith("|")
        ]


def oca_accounts():
    """OCA's l10n_ru account template: id → its row (code, Russian name, type, reconcile as shipped)."""
    with open(file_path("l10n_ru/data/template/account.account-ru.csv"), encoding="utf-8") as f:
        return {row["id"]: row for row in csv.DictReader(f)}


@tagged("post_install", "-at_install")
class TestChart(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls, chart_template_ref="ru"):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.company = cls.company_data["company"]
        cls.chart = cls.env["account.chart.template"].with_company(cls.company)

    def test_account_types(self):
        for xmlid, (account_type, reconcile, _why) in ACCOUNT_TYPES.items():
            account = self.chart.ref(xmlid)
            self.assertEqual((account.account_type, account.reconcile), (account_type, reconcile), xmlid)

    def test_stock_properties(self):
        category = self.env["product.category"].with_company(self.company).create({"name": "X"})
        for fname, xmlid in STOCK_PROPERTIES.items():
            self.assertEqual(category[fname], self.chart.ref(xmlid), fname)

    def test_readme_tables_list_the_corrections(self):
        """readme/CONFIGURE.md and README.rst list exactly ACCOUNT_TYPES (code, OCA's Russian name, type,
        reconcilable) and STOCK_PROPERTIES (field, account code)."""
        oca = oca_accounts()
        expected_accounts = {
            oca[xmlid]["code"]: (oca[xmlid]["name@ru_RU"], account_type, reconcile)
            for xmlid, (account_type, reconcile, _why) in ACCOUNT_TYPES.items()
        }
        expected_properties = {fname: oca[xmlid]["code"] for fname, xmlid in STOCK_PROPERTIES.items()}
        # 20 corrected accounts and 3 category fields: a row lost or added in the code or the tables fails.
        self.assertEqual((len(expected_accounts), len(expected_properties)), (20, 3))
        for path in ("ru_accounting_extras/readme/CONFIGURE.md", "ru_accounting_extras/README.rst"):
            accounts, properties = {}, {}
            for cells in table_rows(path):
                if len(cells) == 5 and TECHNICAL.search(cells[2]):
                    code, name, kind, reconcile, why = cells
                    self.assertNotIn(code, accounts, f"{path}: {code} twice")
                    self.assertTrue(why, f"{path}: {code} says not why")
                    accounts[code] = (name, TECHNICAL.search(kind)[1], YES_NO[reconcile])
                elif len(cells) == 3 and TECHNICAL.search(cells[0]):
                    properties[TECHNICAL.search(cells[0])[1]] = cells[1]
            self.assertEqual(accounts, expected_accounts, path)
            self.assertEqual(properties, expected_properties, path)

    def test_install_hook_restores_a_company_loaded_before_the_module(self):
        """A company whose accounts are back to OCA's types and whose categories lost the valuation accounts
        (as if l10n_ru had been loaded without this module) gets them from the install hook; a second run
        writes nothing."""
        oca = oca_accounts()
        Account = self.env["account.account"]
        Property = self.env["ir.property"].sudo()
        for xmlid in ACCOUNT_TYPES:
            self.chart.ref(xmlid).write(
                {"account_type": oca[xmlid]["account_type"], "reconcile": oca[xmlid]["reconcile"] == "True"}
            )
        defaults = [
            ("fields_id.name", "in", list(STOCK_PROPERTIES)),
            ("fields_id.model", "=", "product.category"),
            ("company_id", "=", self.company.id),
            ("res_id", "=", False),
        ]
        Property.search(defaults).unlink()
        category = self.env["product.category"].with_company(self.company).create({"name": "Before"})
        for fname, xmlid in STOCK_PROPERTIES.items():
            self.assertNotEqual(category[fname], self.chart.ref(xmlid), fname)
        # The accounts whose OCA type or reconcile differ from ours: all but 62.01 (OCA's asset_receivable,
        # reconcilable, is right), i.e. 19 of the 20.
        differing = {
            oca[xmlid]["code"]
            for xmlid, (account_type, reconcile, _why) in ACCOUNT_TYPES.items()
            if (oca[xmlid]["account_type"], oca[xmlid]["reconcile"] == "True") != (account_type, reconcile)
        }
        self.assertEqual(len(differing), 19)
        self.assertNotIn("62.01", differing)

        written = []
        write = type(Account).write

        def counting_write(records, vals):
            if records.company_id == self.company and {"account_type", "reconcile"} & set(vals):
                written.extend(records.mapped("code"))
            return write(records, vals)

        superuser_env = self.env(user=SUPERUSER_ID)  # the hook's environment at install
        with patch.object(type(Account), "write", counting_write):
            post_init_hook(superuser_env)
        self.assertEqual(set(written), differing)
        self.assertEqual(len(written), 19)
        self.test_account_types()
        self.test_stock_properties()
        self.assertEqual(Property.search_count(defaults), 3)

        written.clear()
        with patch.object(type(Account), "write", counting_write):
            post_init_hook(superuser_env)
        self.assertEqual(written, [])
        self.assertEqual(Property.search_count(defaults), 3)
        self.test_account_types()
