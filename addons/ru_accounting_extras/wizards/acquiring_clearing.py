# The card takings clearing wizard: the accountant picks the acquirer's settlement (a bank statement line) and
# the POS sessions or 57.03 items it pays, sees gross, net and fee, and clears them
# (account.bank.statement.line.action_ru_clear_acquiring).
from odoo import api, fields, models

from ..models.pos_payment_method import CARD_SALES


class RuAcquiringClearing(models.TransientModel):
    _name = "ru.acquiring.clearing"
    _description = "Card takings clearing"

    statement_line_id = fields.Many2one(
        "account.bank.statement.line",
        "Settlement",
        required=True,
        domain="[('is_reconciled', '=', False), ('journal_id.type', '=', 'bank'), ('amount', '>', 0)]",
        help="The bank statement line of the acquirer's settlement (the takings net of its fee).",
    )
    company_id = fields.Many2one(related="statement_line_id.company_id")
    currency_id = fields.Many2one(related="company_id.currency_id")
    session_ids = fields.Many2many(
        "pos.session",
        string="POS sessions",
        domain="[('state', '=', 'closed'), ('company_id', '=', company_id)]",
        help="The sessions whose card takings the settlement pays: their open 57.03 items are chosen.",
    )
    line_ids = fields.Many2many(
        "account.move.line",
        string="Card takings",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
        domain="[('account_id', '=', takings_account_id), ('reconciled', '=', False), "
        "('parent_state', '=', 'posted')]",
        help="The open 57.03 items the settlement clears.",
    )
    takings_account_id = fields.Many2one("account.account", compute="_compute_takings_account_id")
    amount_gross = fields.Monetary("Takings", compute="_compute_amounts")
    amount_net = fields.Monetary("Settled", related="statement_line_id.amount")
    amount_fee = fields.Monetary("Fee", compute="_compute_amounts", help="Takings minus the settlement.")
    amount_fee_expected = fields.Monetary(
        "Fee at the rate", compute="_compute_amounts", help="The acquiring methods' rates times the takings."
    )
    fee_account_id = fields.Many2one(
        "account.account",
        "Fee account",
        domain="[('company_id', '=', company_id), ('deprecated', '=', False)]",
        help="Empty: the acquiring methods' fee account (44.01 selling expenses).",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "account.bank.statement.line" and self.env.context.get(
            "active_id"
        ):
            values.setdefault("statement_line_id", self.env.context["active_id"])
        return values

    @api.depends("company_id")
    def _compute_takings_account_id(self):
        for wizard in self:
            chart = self.env["account.chart.template"].with_company(wizard.company_id or self.env.company)
            wizard.takings_account_id = chart.ref(CARD_SALES, raise_if_not_found=False)

    @api.depends("session_ids", "takings_account_id")
    def _compute_line_ids(self):
        for wizard in self:
            wizard.line_ids = self.env["account.move.line"].search(
                [
                    ("payment_id.pos_session_id", "in", wizard.session_ids.ids),
                    ("account_id", "=", wizard.takings_account_id.id),
                    ("reconciled", "=", False),
                    ("parent_state", "=", "posted"),
                ]
            )

    @api.depends("line_ids", "statement_line_id")
    def _compute_amounts(self):
        for wizard in self:
            gross = sum(wizard.line_ids.mapped("amount_residual"))
            wizard.amount_gross = gross
            wizard.amount_fee = gross - wizard.statement_line_id.amount
            wizard.amount_fee_expected = sum(
                line.amount_residual * line.payment_id.pos_payment_method_id.ru_acquiring_fee_percent / 100
                for line in wizard.line_ids
            )

    def action_clear(self):
        self.ensure_one()
        self.statement_line_id.action_ru_clear_acquiring(self.line_ids, self.fee_account_id or None)
        return {"type": "ir.actions.act_window_close"}
