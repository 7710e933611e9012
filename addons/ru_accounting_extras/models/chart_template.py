# Corrections of OCA's Russian chart (l10n_ru): the account types this module's entries and reports rely on,
# the perpetual-valuation accounts of product categories, the VAT taxes (their accounts 68.02 / 19.03, the
# 22 % rate, VAT exempt, the tills' FFD 1199 codes), the company's default taxes and POS receivable account.
# Applied when the chart is loaded into a company, and by the install hook to companies already on it.
import logging

from odoo import Command, models
from odoo.addons.account.models.chart_template import template

_logger = logging.getLogger(__name__)

#: Account (l10n_ru template id) → (its correct type, reconcilable, why). OCA types most non-cash accounts
#: "expense", so balance sheet and profit reports would misplace them. readme/CONFIGURE.md lists the same
#: table for accountants; tests/test_chart.py holds both to these values.
ACCOUNT_TYPES = {
    # Technical account (1C's "000"): the interim of goods received before their bill (stock input).
    "ru_acc_000": ("asset_current", True, "goods received, bill not yet posted"),
    # The purchase VAT taxes' account (VAT_TAX_ACCOUNTS): input VAT is a claim on the budget until deducted
    # (Dt 68.02 Ct 19.03), not an expense. Not reconciled: deducted by period in the tax closing, like 68.02.
    "ru_acc_19_03": ("asset_current", False, "VAT on purchased goods: deductible, not an expense"),
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


#: Output VAT (sales) is a debt to the budget: 68.02 "VAT" (liability_current in ACCOUNT_TYPES).
VAT_PAYABLE = "ru_acc_68_02"
#: Input VAT on purchased goods, deductible: 19.03 "VAT on purchased inventories". A retailer buys goods;
#: VAT on services (19.04) or fixed assets (19.01) needs a tax of its own, which the accountant adds.
VAT_DEDUCTIBLE = "ru_acc_19_03"

#: VAT tax (l10n_ru template id) → the account of its tax repartition lines, invoice and refund alike. OCA's
#: taxes come without accounts, so Odoo leaves the VAT in the line's income or expense account (90.01.1,
#: 41.01): revenue and stock would include the VAT and the VAT return would have no balance to read.
VAT_TAX_ACCOUNTS = {
    # 0 %: exports (Tax Code art. 164 p.1). No tax amount; the account makes it the same as the others.
    "sale_vat_0": VAT_PAYABLE,
    # 5 %: simplified-tax payers who opted for the reduced VAT (art. 164 p.8).
    "sale_vat_5": VAT_PAYABLE,
    # 10 %: food, children's and medical goods (art. 164 p.2).
    "sale_vat_10": VAT_PAYABLE,
    # 15 %: in OCA's chart (inactive); not a Russian rate today, kept consistent should anyone use it.
    "sale_vat_15": VAT_PAYABLE,
    # 20 %: the general rate until 31 December 2025 (sales of that period, corrections).
    "sale_vat_20": VAT_PAYABLE,
    # 22 %: the general rate since 1 January 2026 (sunglasses, accessories, services).
    "sale_vat_22": VAT_PAYABLE,
    # The purchase taxes of the same rates: the supplier's VAT on goods bought for resale.
    "purchase_vat_0": VAT_DEDUCTIBLE,
    "purchase_vat_5": VAT_DEDUCTIBLE,
    "purchase_vat_10": VAT_DEDUCTIBLE,
    "purchase_vat_15": VAT_DEDUCTIBLE,
    "purchase_vat_20": VAT_DEDUCTIBLE,
    "purchase_vat_22": VAT_DEDUCTIBLE,
}

#: Sale tax → the VAT rate code a till prints for it (FFD 1.2 tag 1199; optics_core FFD_VAT_CODES), the
#: tax's optics_ffd_vat_code. A sale tax without a code cannot be fiscalised.
SALE_VAT_FFD_CODES = {
    "sale_vat_0": "5",  # 0 %
    "sale_vat_5": "7",  # 5 %
    "sale_vat_10": "2",  # 10 %
    # sale_vat_15 has none: FFD knows no 15 % rate.
    "sale_vat_20": "1",  # 20 %
    "sale_vat_22": "11",  # 22 %
    "sale_vat_exempt": "6",  # not subject to VAT
}

#: Tax groups this module adds, following OCA's one group per rate (the invoice totals show one VAT line
#: per group). tax_group_vat_5 corrects OCA's group: its csv lists the id twice, the second row ("VAT 7%")
#: wins, so 5 % invoices showed "НДС 7%".
TAX_GROUPS = {
    "tax_group_vat_5": {"name": "VAT 5%", "name@ru_RU": "НДС 5%"},
    "tax_group_vat_22": {"name": "VAT 22%", "name@ru_RU": "НДС 22%", "country_id": "base.ru"},
    # Exempt sales are a line of their own in the VAT return (section 7), apart from 0 %.
    "tax_group_vat_exempt": {"name": "VAT exempt", "name@ru_RU": "Без НДС", "country_id": "base.ru"},
}
#: OCA's wrong name of tax_group_vat_5, replaced on companies already on the chart (another is kept).
OCA_VAT_5_GROUP_NAME = "VAT 7%"

#: Taxes this module adds to OCA's (their repartition accounts and FFD codes come from the tables above).
#: Price included like OCA's: shelf prices are final prices. Active: the chain sells at these rates.
NEW_TAXES = {
    # The general VAT rate since 1 January 2026; the company's default (COMPANY_DEFAULTS).
    "sale_vat_22": {
        "name": "VAT 22%",
        "name@ru_RU": "НДС 22%",
        "invoice_label": "VAT 22%",
        "invoice_label@ru_RU": "НДС 22%",
        "tax_group_id": "tax_group_vat_22",
        "type_tax_use": "sale",
        "amount": 22.0,
        "amount_type": "percent",
        "price_include": True,
        "active": True,
    },
    "purchase_vat_22": {
        "name": "VAT 22%",
        "name@ru_RU": "НДС 22%",
        "invoice_label": "VAT 22%",
        "invoice_label@ru_RU": "НДС 22%",
        "tax_group_id": "tax_group_vat_22",
        "type_tax_use": "purchase",
        "amount": 22.0,
        "amount_type": "percent",
        "price_include": True,
        "active": True,
    },
    # Corrective lenses and frames are exempt (Tax Code art. 149 p.2 pp.1, medical goods): optics_core's
    # categories require a tax with FFD code 6. OCA has none (its 0 % is the export rate, code 5). No
    # amount, so no repartition account.
    "sale_vat_exempt": {
        "name": "VAT exempt",
        "name@ru_RU": "Без НДС",
        "invoice_label": "VAT exempt",
        "invoice_label@ru_RU": "Без НДС",
        "tax_group_id": "tax_group_vat_exempt",
        "type_tax_use": "sale",
        "amount": 0.0,
        "amount_type": "percent",
        "price_include": True,
        "active": True,
    },
}

#: A company already on the chart may have made one of NEW_TAXES itself (the 22 % rate came into force
#: before this module): the install hook adopts it (gives it the template id) instead of creating a second.
#: New tax → the domain of its equivalent (within the company; the first active one wins).
NEW_TAX_EQUIVALENTS = {
    "sale_vat_22": [("type_tax_use", "=", "sale"), ("amount_type", "=", "percent"), ("amount", "=", 22.0)],
    "purchase_vat_22": [
        ("type_tax_use", "=", "purchase"),
        ("amount_type", "=", "percent"),
        ("amount", "=", 22.0),
    ],
    "sale_vat_exempt": [("type_tax_use", "=", "sale"), ("optics_ffd_vat_code", "=", "6")],
}

#: The company's defaults on the Russian chart (res.company field → template id).
COMPANY_DEFAULTS = {
    # New products get the general rate: 22 % since 1 January 2026 (OCA's default is 20 %).
    "account_sale_tax_id": "sale_vat_22",
    "account_purchase_tax_id": "purchase_vat_22",
    # The POS sessions' receivable (customer-account payments, invoiced orders): 62.P "settlements with
    # retail customers", receivable and reconcilable in OCA's chart. OCA sets none, and point_of_sale needs
    # one to close a session.
    "account_default_pos_receivable_account_id": "ru_acc_62_P",
}
#: Defaults the install hook replaces on a company already on the chart: empty or OCA's own (20 %, the old
#: general rate). A default the company chose otherwise is kept.
REPLACED_DEFAULTS = {
    "account_sale_tax_id": "sale_vat_20",
    "account_purchase_tax_id": "purchase_vat_20",
}


def vat_repartition(account):
    """Repartition lines of a VAT tax in template form: base and tax, invoice and refund alike, the tax on
    account (an l10n_ru template id)."""
    return [
        Command.create({"document_type": document_type, "repartition_type": "base", "factor_percent": 100})
        if kind == "base"
        else Command.create(
            {
                "document_type": document_type,
                "repartition_type": "tax",
                "factor_percent": 100,
                "account_id": account,
            }
        )
        for document_type in ("invoice", "refund")
        for kind in ("base", "tax")
    ]


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

    @template("ru", "account.tax.group")
    def _get_ru_accounting_extras_tax_groups(self):
        return {xmlid: dict(values) for xmlid, values in TAX_GROUPS.items()}

    @template("ru", "account.tax")
    def _get_ru_accounting_extras_taxes(self):
        """NEW_TAXES, and every VAT tax's repartition accounts (VAT_TAX_ACCOUNTS) and FFD code; merged into
        OCA's records of the same ids."""
        taxes = {xmlid: dict(values) for xmlid, values in NEW_TAXES.items()}
        for xmlid, account in VAT_TAX_ACCOUNTS.items():
            taxes.setdefault(xmlid, {})["repartition_line_ids"] = vat_repartition(account)
        for xmlid, code in SALE_VAT_FFD_CODES.items():
            taxes.setdefault(xmlid, {})["optics_ffd_vat_code"] = code
        return taxes

    # Named to sort after l10n_ru's _get_ru_res_company: the template functions of a model run in name
    # order and the last one's values win, here over OCA's 20 % defaults.
    @template("ru", "res.company")
    def _get_ru_res_company_ru_accounting_extras(self):
        return {self.env.company.id: dict(COMPANY_DEFAULTS)}

    def _ru_accounting_extras_apply(self, company):
        """Bring a company already on the Russian chart to ACCOUNT_TYPES, STOCK_PROPERTIES, the VAT taxes and
        COMPANY_DEFAULTS (install hook; idempotent). Accounts a company deleted are skipped."""
        chart = self.with_company(company)
        for xmlid, (account_type, reconcile, _why) in ACCOUNT_TYPES.items():
            account = chart.ref(xmlid, raise_if_not_found=False)
            if account and (account.account_type, account.reconcile) != (account_type, reconcile):
                account.write({"account_type": account_type, "reconcile": reconcile})
        for fname, xmlid in STOCK_PROPERTIES.items():
            account = chart.ref(xmlid, raise_if_not_found=False)
            if account:
                self.env["ir.property"]._set_default(fname, "product.category", account.id, company=company)
        self._ru_apply_taxes(company)
        self._ru_apply_company_defaults(company)

    def _ru_apply_taxes(self, company):
        """The VAT taxes of a company already on the chart: NEW_TAXES (an equivalent the company made is
        adopted) and their groups, the 5 % group's name, then the repartition accounts and FFD codes left
        empty. What the company set itself (an account, a code, a group's own name) is kept."""
        chart = self.with_company(company)
        Tax = self.env["account.tax"].with_context(active_test=False)
        for xmlid, domain in NEW_TAX_EQUIVALENTS.items():
            if chart.ref(xmlid, raise_if_not_found=False):
                continue
            tax = Tax.search([("company_id", "=", company.id), *domain], order="active desc, id", limit=1)
            if tax:
                self.env["ir.model.data"]._update_xmlids(
                    [{"xml_id": f"account.{company.id}_{xmlid}", "record": tax, "noupdate": True}]
                )
        # The rest are created from the template's own data, as a chart load would (translations included).
        data = chart._get_chart_template_data("ru")
        missing = {
            model: {
                xmlid: data[model][xmlid]
                for xmlid in xmlids
                if not chart.ref(xmlid, raise_if_not_found=False)
            }
            for model, xmlids in (("account.tax.group", TAX_GROUPS), ("account.tax", NEW_TAXES))
        }
        if any(missing.values()):
            chart._load_data(missing)
            chart._load_translations(companies=company, template_data=missing)
        for xmlid in NEW_TAXES:
            tax = chart.ref(xmlid, raise_if_not_found=False)
            if tax and not tax.active:
                tax.active = True
        group = chart.ref("tax_group_vat_5", raise_if_not_found=False)
        if group and group.with_context(lang="en_US").name == OCA_VAT_5_GROUP_NAME:
            installed = {code for code, _name in self.env["res.lang"].get_installed()}
            values = TAX_GROUPS["tax_group_vat_5"]
            names = {"en_US": values["name"], "ru_RU": values["name@ru_RU"]}
            group.update_field_translations(
                "name", {lang: name for lang, name in names.items() if lang in installed}
            )
        for xmlid, account_xmlid in VAT_TAX_ACCOUNTS.items():
            tax = chart.ref(xmlid, raise_if_not_found=False)
            account = chart.ref(account_xmlid, raise_if_not_found=False)
            if tax and account:
                self._ru_set_vat_account(tax, account)
        for xmlid, code in SALE_VAT_FFD_CODES.items():
            tax = chart.ref(xmlid, raise_if_not_found=False)
            if tax and not tax.optics_ffd_vat_code:
                tax.optics_ffd_vat_code = code

    def _ru_set_vat_account(self, tax, account):
        """Put account on the tax repartition lines of tax that have none."""
        lines = tax.repartition_line_ids.filtered(
            lambda rep: rep.repartition_type == "tax" and not rep.account_id
        )
        if not lines:
            return
        if tax.is_used:
            # Odoo lets a used tax's accounts change (the change is logged in the tax's chatter); the entries
            # already posted keep their VAT in the lines' income or expense accounts, for the accountant.
            _logger.warning(
                "Tax %s of %s was used with its VAT on the lines' income or expense accounts: its VAT now "
                "goes to %s, the entries already posted are left as they are.",
                tax.name, tax.company_id.name, account.code,
            )  # fmt: skip
        lines.account_id = account

    def _ru_apply_company_defaults(self, company):
        """COMPANY_DEFAULTS on a company already on the chart, where its field is empty or OCA's default
        (REPLACED_DEFAULTS)."""
        chart = self.with_company(company)
        vals = {}
        for fname, xmlid in COMPANY_DEFAULTS.items():
            record = chart.ref(xmlid, raise_if_not_found=False)
            replaced = REPLACED_DEFAULTS.get(fname)
            if (
                record
                and company[fname] != record
                and (
                    not company[fname]
                    or (replaced and company[fname] == chart.ref(replaced, raise_if_not_found=False))
                )
            ):
                vals[fname] = record.id
        if vals:
            company.write(vals)
