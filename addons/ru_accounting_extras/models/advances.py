# Glasses-job advances on 62.02 "advances received": the advance product's income account and the prepayment
# offset method's receivable account are 62.02, so an advance is a debt to the customer until pickup. At the
# session close each job's advance and offset get their own 62.02 line (customer, job number), reconciled per
# job, and the VAT an advance carries (the calculated rate the till printed, e.g. 22/122) is accrued
# Dt 76.AB Ct 68.02 and restored Dt 68.02 Ct 76.AB when the pickup offsets the advance.
#
# Why no VAT is counted twice: Odoo does not tax the advance (the advance product has no tax; the till prints
# the advance's own rate, kept on the line as optics_advance_vat), so Odoo's VAT (68.02) comes from the
# pickup's goods only. The advance's VAT, due in the period the money was received (Tax Code art. 167 p.1
# pp.2), is booked here apart from Odoo's taxes, and restored at the pickup (art. 171 p.8, 172 p.6): over a
# job 68.02 ends with the goods' VAT alone.

from odoo import fields, models
from odoo.addons.account.models.chart_template import template

from .pos_payment_method import ADVANCES

#: VAT on advances received: OCA's 76.AB "VAT on advances and prepayments" (1C's 76.АВ in latin letters, the
#: only ones Odoo account codes take). OCA types it "expense"; it is a current asset (the VAT paid ahead on
#: advances, recovered at the pickup), reconciled per job.
ADVANCE_VAT = "ru_acc_76_AB"
ADVANCE_VAT_TYPE = ("asset_current", True)
#: FFD 1.2 tag 1199 codes of the calculated rates a till prints on an advance (optics_core ADVANCE_VAT_CODES)
#: → the rate r: the VAT in an advance of A is A x r / (100 + r). 5 (0 %) and 6 (no VAT) carry none.
CALCULATED_VAT_RATES = {3: 20, 4: 10, 9: 5, 10: 7, 12: 22}
#: The advance product of optics_pos_ru54fz (its lines in the POS are a job's advance).
ADVANCE_PRODUCT = "optics_pos_ru54fz.product_job_advance"


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    ru_job_ref = fields.Char(
        "Glasses job",
        index="btree_not_null",
        readonly=True,
        help="The glasses job an advance (62.02) or its VAT (76.AB) belongs to: its lines are reconciled "
        "per job.",
    )


class AccountChartTemplate(models.AbstractModel):
    # Apart from chart_template.py: the advances' set-up, one concern per file.
    _inherit = "account.chart.template"  # pylint: disable=consider-merging-classes-inherited

    @template("ru", "account.account")
    def _get_ru_accounting_extras_advance_vat_type(self):
        account_type, reconcile = ADVANCE_VAT_TYPE
        return {ADVANCE_VAT: {"account_type": account_type, "reconcile": reconcile}}

    def _post_load_data(self, template_code, company, template_data):
        result = super()._post_load_data(template_code, company, template_data)
        if template_code == "ru":
            self._ru_advances_apply(company or self.env.company)
        return result

    def _ru_advances_apply(self, company):
        """Set a company on the Russian chart up for advances received (chart load, install hook; idempotent,
        callable again): 76.AB's type, the advance product's income account 62.02 and the prepayment offset
        methods' receivable account 62.02 (pos.payment.method._ru_default_accounts)."""
        chart = self.with_company(company)
        advances = chart.ref(ADVANCES, raise_if_not_found=False)
        if not advances:
            return
        advance_vat = chart.ref(ADVANCE_VAT, raise_if_not_found=False)
        account_type, reconcile = ADVANCE_VAT_TYPE
        if advance_vat and (advance_vat.account_type, advance_vat.reconcile) != ADVANCE_VAT_TYPE:
            advance_vat.write({"account_type": account_type, "reconcile": reconcile})
        product = self.env.ref(ADVANCE_PRODUCT, raise_if_not_found=False)
        if product:
            product = product.with_company(company)
            if product.property_account_income_id != advances:
                product.property_account_income_id = advances
        methods = (
            self.env["pos.payment.method"]
            .with_context(active_test=False)
            .search([("company_id", "=", company.id), ("optics_prepayment_offset", "=", True)])
        )
        methods._ru_apply_accounts()
