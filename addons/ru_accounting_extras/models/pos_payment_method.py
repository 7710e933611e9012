# POS payment methods on the Russian chart: a card (acquiring) method books its takings on 57.03 "card sales"
# with the acquirer's fee rate and fee account, and the glasses-job prepayment offset method books on 62.02
# "advances received".
import logging

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

_logger = logging.getLogger(__name__)

#: Card takings wait on 57.03 "sales by payment cards" until the acquirer settles them (l10n_ru template id).
CARD_SALES = "ru_acc_57_03"
#: The acquirer's fee is a selling expense: 44.01 "circulation costs of a trading organisation". The fee is
#: paid for accepting the customers' cards, i.e. for selling (PBU 10/99: an expense of ordinary activities);
#: a retailer collects such costs on 44 and 1C posts the acquiring fee Dt 44.01 by default. An organisation
#: whose accounting policy books bank charges on 91.02 picks that account on the method instead.
FEE_ACCOUNT = "ru_acc_44_01"
#: Advances received (62.02): what the prepayment offset pays at a glasses job's pickup.
ADVANCES = "ru_acc_62_02"
#: A fee rate above this is a typing error (1.8 typed as 18): Russian acquirers charge retailers about
#: 1.2-3 % of the takings.
MAX_FEE_PERCENT = 10.0


class PosPaymentMethod(models.Model):
    _inherit = "pos.payment.method"

    ru_acquiring = fields.Boolean(
        "Card acquiring",
        help="Card payments through an acquirer: the session's takings are booked on 57.03 (card sales) and "
        "cleared when the acquirer's settlement, net of its fee, reaches the bank.",
    )
    ru_acquiring_fee_percent = fields.Float(
        "Acquirer's fee, %",
        digits=(5, 3),
        help="The acquirer's fee as a percentage of the card takings (e.g. 1.8): the clearing of a "
        "settlement checks the fee it implies against this rate.",
    )
    ru_acquiring_fee_account_id = fields.Many2one(
        "account.account",
        "Acquiring fee account",
        ondelete="restrict",
        domain="[('deprecated', '=', False), ('company_id', '=', company_id)]",
        help="Where the acquirer's fee is booked when a settlement is cleared: 44.01 selling expenses by "
        "default.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            vals.update(self._ru_default_accounts(company, vals))
        return super().create(vals_list)

    def write(self, vals):
        if not {"ru_acquiring", "optics_prepayment_offset", "journal_id", "company_id"} & set(vals):
            return super().write(vals)
        # Per method: the accounts depend on each one's company and flags.
        for method in self:
            company = self.env["res.company"].browse(vals.get("company_id")) or method.company_id
            super(PosPaymentMethod, method).write(
                {**method._ru_default_accounts(company, vals, method), **vals}
            )
        return True

    @api.model
    def _ru_default_accounts(self, company, vals, current=None):
        """The Russian chart's accounts a method needs and ``vals`` does not give (``current``: the method
        being written): an acquiring method's outstanding account 57.03 and fee account 44.01; a prepayment
        offset method's (no journal) receivable account 62.02. Empty on a company without the chart."""

        def value(name):
            return vals[name] if name in vals else (current[name] if current else False)

        chart = self.env["account.chart.template"].with_company(company)
        extra = {}
        if value("ru_acquiring"):
            takings = chart.ref(CARD_SALES, raise_if_not_found=False)
            if takings and "outstanding_account_id" not in vals:
                extra["outstanding_account_id"] = takings.id
            fee = chart.ref(FEE_ACCOUNT, raise_if_not_found=False)
            if fee and not value("ru_acquiring_fee_account_id"):
                extra["ru_acquiring_fee_account_id"] = fee.id
        if (
            value("optics_prepayment_offset")
            and not value("journal_id")
            and "receivable_account_id" not in vals
        ):
            advances = chart.ref(ADVANCES, raise_if_not_found=False)
            if advances:
                extra["receivable_account_id"] = advances.id
        return extra

    def _ru_apply_accounts(self):
        """Bring existing methods to ``_ru_default_accounts`` (install hook, chart load; idempotent)."""
        for method in self:
            vals = {
                name: account_id
                for name, account_id in self._ru_default_accounts(method.company_id, {}, method).items()
                if method[name].id != account_id
            }
            if not vals:
                continue
            if method.open_session_ids:
                # Odoo forbids changing a method an open session uses; the next call completes it.
                _logger.warning(
                    "POS payment method %s (company %s) keeps its accounts while sessions %s are open",
                    method.name,
                    method.company_id.name,
                    ", ".join(method.open_session_ids.mapped("name")),
                )
                continue
            method.write(vals)

    @api.onchange("ru_acquiring")
    def _onchange_ru_acquiring(self):
        for method in self.filtered("ru_acquiring"):
            chart = self.env["account.chart.template"].with_company(method.company_id)
            method.outstanding_account_id = (
                chart.ref(CARD_SALES, raise_if_not_found=False) or method.outstanding_account_id
            )
            if not method.ru_acquiring_fee_account_id:
                method.ru_acquiring_fee_account_id = chart.ref(FEE_ACCOUNT, raise_if_not_found=False)

    @api.constrains("ru_acquiring", "ru_acquiring_fee_percent", "journal_id", "outstanding_account_id")
    def _check_ru_acquiring(self):
        for method in self:
            if not 0.0 <= method.ru_acquiring_fee_percent <= MAX_FEE_PERCENT:
                raise ValidationError(
                    _(
                        "%(method)s: the acquirer's fee must be between 0 and %(max)s %% of the takings.",
                        method=method.name,
                        max=MAX_FEE_PERCENT,
                    )
                )
            if not method.ru_acquiring:
                continue
            if method.journal_id.type != "bank":
                raise ValidationError(
                    _("%s: card acquiring needs a bank journal (the acquirer's account).", method.name)
                )
            chart = self.env["account.chart.template"].with_company(method.company_id)
            takings = chart.ref(CARD_SALES, raise_if_not_found=False)
            if takings and method.outstanding_account_id != takings:
                raise ValidationError(
                    _(
                        "%(method)s: card takings are booked on %(account)s; leave the outstanding account "
                        "to it.",
                        method=method.name,
                        account=takings.display_name,
                    )
                )
