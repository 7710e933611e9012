# Clearing of card takings: the acquirer settles the POS card takings (57.03) net of its fee; the bank
# statement line of the settlement is rewritten to Ct 57.03 (gross) + Dt fee account (fee) and the takings
# are reconciled with it.
from odoo import Command, _, models
from odoo.exceptions import UserError

from .pos_payment_method import CARD_SALES, FEE_ACCOUNT

#: How far the fee a settlement implies (gross - net) may stray from the expected fee (rate x gross), as a
#: share of the gross takings: 0.5 %. Acquirers round their fee per transaction, charge other rates for some
#: cards (premium, foreign) and a minimum per transaction, so the real fee drifts a little from the contract
#: rate; a larger gap means wrong takings were chosen (another day, a missing refund) or a wrong amount.
FEE_TOLERANCE_SHARE = 0.005


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    def action_ru_clear_acquiring(self, takings, fee_account=None):
        """Clear POS card takings with this settlement (a bank statement line of the net amount).

        ``takings``: the POS sessions whose card takings are settled, or their open 57.03 journal items.
        ``fee_account``: where the fee goes; by default the acquiring methods' fee account (44.01).
        The fee (gross - net) must be >= 0 and within FEE_TOLERANCE_SHARE of the gross from the methods'
        rates. The statement line's suspense counterpart becomes Ct 57.03 gross + Dt fee, and the 57.03
        items are reconciled with it. Returns the 57.03 credit line."""
        self.ensure_one()
        currency = self.company_id.currency_id
        if self.journal_id.type != "bank":
            raise UserError(
                _("Card takings are cleared by a bank statement line (the acquirer's settlement).")
            )
        if currency.compare_amounts(self.amount, 0) <= 0:
            raise UserError(
                _("A settlement is money received: the statement line's amount must be positive.")
            )
        if self.foreign_currency_id or (self.journal_id.currency_id or currency) != currency:
            raise UserError(_("Card takings are cleared in the company's currency only."))
        _liquidity, suspense, _other = self._seek_for_lines()
        if not suspense or self.is_reconciled:
            raise UserError(_("The statement line %s is already reconciled.", self.display_name))
        lines = self._ru_acquiring_lines(takings)

        gross = sum(lines.mapped("amount_residual"))
        net = self.amount
        fee = currency.round(gross - net)
        expected = currency.round(
            sum(
                line.amount_residual * line.payment_id.pos_payment_method_id.ru_acquiring_fee_percent / 100
                for line in lines
            )
        )
        if currency.compare_amounts(gross, 0) <= 0:
            raise UserError(_("The chosen card takings add up to %s: nothing to clear.", gross))
        if currency.compare_amounts(fee, 0) < 0:
            raise UserError(
                _(
                    "The settlement (%(net)s) is more than the card takings (%(gross)s): choose the takings "
                    "it pays.",
                    net=net,
                    gross=gross,
                )
            )
        tolerance = currency.round(gross * FEE_TOLERANCE_SHARE)
        if currency.compare_amounts(abs(fee - expected), tolerance) > 0:
            raise UserError(
                _(
                    "The settlement implies a fee of %(fee)s on takings of %(gross)s, but the acquirer's "
                    "rate gives %(expected)s (tolerance %(tolerance)s): check the takings chosen and the "
                    "amount.",
                    fee=fee,
                    gross=gross,
                    expected=expected,
                    tolerance=tolerance,
                )
            )
        fee_account = fee_account or self._ru_acquiring_fee_account(lines)

        # Odoo's own way to change a statement line's counterpart: write its move's lines; the statement line
        # is synchronised from them (_synchronize_from_moves) and counts as reconciled once no suspense line
        # is left.
        name = self.payment_ref or _("Card takings settlement")
        commands = [
            Command.update(
                suspense.id,
                {
                    "account_id": lines.account_id.id,
                    "name": name,
                    "debit": 0.0,
                    "credit": gross,
                    "amount_currency": -gross,
                },
            )
        ]
        if not currency.is_zero(fee):
            commands.append(
                Command.create(
                    {
                        "account_id": fee_account.id,
                        "name": _("Acquiring fee: %s", name),
                        "partner_id": self.partner_id.id,
                        "debit": fee,
                        "credit": 0.0,
                        "amount_currency": fee,
                        "currency_id": currency.id,
                    }
                )
            )
        self.move_id.write({"line_ids": commands})
        (suspense | lines).reconcile()
        return suspense

    def _ru_acquiring_lines(self, takings):
        """The open 57.03 items of ``takings`` (POS sessions or 57.03 journal items), checked."""
        self.ensure_one()
        chart = self.env["account.chart.template"].with_company(self.company_id)
        account = chart.ref(CARD_SALES, raise_if_not_found=False)
        if not account:
            raise UserError(
                _("The company %s is not on the Russian chart of accounts.", self.company_id.name)
            )
        if takings._name == "pos.session":
            lines = self.env["account.move.line"].search(
                [
                    ("payment_id.pos_session_id", "in", takings.ids),
                    ("account_id", "=", account.id),
                    ("parent_state", "=", "posted"),
                ]
            )
        else:
            lines = takings
        if not lines:
            raise UserError(_("No card takings (57.03) to clear were chosen."))
        wrong = lines.filtered(lambda line: line.account_id != account or line.parent_state != "posted")
        if wrong:
            raise UserError(
                _("Only posted card takings on %(account)s can be cleared: %(lines)s.",
                  account=account.display_name, lines=", ".join(wrong.mapped("display_name")))
            )  # fmt: skip
        cleared = lines.filtered("reconciled")
        if cleared:
            raise UserError(
                _("These card takings are already cleared: %s.", ", ".join(cleared.move_id.mapped("name")))
            )
        no_rate = lines.filtered(lambda line: not line.payment_id.pos_payment_method_id.ru_acquiring)
        if no_rate:
            raise UserError(
                _(
                    "These items are not POS takings of a card acquiring method, so their fee rate is "
                    "unknown: %s.",
                    ", ".join(no_rate.move_id.mapped("name")),
                )
            )
        return lines

    def _ru_acquiring_fee_account(self, lines):
        """The fee account of the takings' acquiring methods (one), else 44.01."""
        accounts = lines.payment_id.pos_payment_method_id.ru_acquiring_fee_account_id
        if len(accounts) > 1:
            raise UserError(
                _("The chosen takings' methods book the fee on different accounts: choose the fee account.")
            )
        if accounts:
            return accounts
        chart = self.env["account.chart.template"].with_company(self.company_id)
        return chart.ref(FEE_ACCOUNT)
