# A store's accounting settings: its cash account (50.01.NN), cash journal and cash limit, and the action that
# creates them and points the store's POS cash payments at them.
from odoo import _, fields, models
from odoo.exceptions import UserError

#: The parent of the stores' cash accounts (l10n_ru template id).
CASH_PARENT = "ru_acc_50_01"
#: Cash over at close (91.01 other income) and cash short (94 shortages, until charged to the employee).
CASH_OVER = "ru_acc_91_01"
CASH_SHORT = "ru_acc_94"


class StockWarehouse(models.Model):
    _inherit = "stock.warehouse"

    ru_cash_account_id = fields.Many2one(
        "account.account",
        string="Cash account",
        copy=False,
        check_company=True,
        help="The store's own cash account, a sub-account of 50.01 (50.01.NN).",
    )
    ru_cash_journal_id = fields.Many2one(
        "account.journal",
        string="Cash journal",
        copy=False,
        check_company=True,
        domain="[('type', '=', 'cash')]",
        help="The store's cash journal: its POS cash payments, cash orders and the cash book.",
    )
    ru_cash_limit = fields.Monetary(
        string="Cash limit",
        currency_field="ru_currency_id",
        help="The store's cash balance limit (лимит остатка кассы, Bank of Russia 3210-U): the cash above it "
        "at the end of the day must go to the bank. 0 means no limit.",
    )
    ru_currency_id = fields.Many2one(related="company_id.currency_id", string="Currency")

    _sql_constraints = [
        (
            "ru_cash_journal_unique",
            "UNIQUE(ru_cash_journal_id)",
            "Each store has its own cash journal.",
        ),
    ]

    def action_ru_setup_cash(self):
        """Create what a store's cash needs and is missing (idempotent): the account 50.01.NN, the cash
        journal on it (over → 91.01, short → 94), and the store's POS configs' cash payment method on it."""
        for store in self:
            chart = self.env["account.chart.template"].with_company(store.company_id)
            parent = chart.ref(CASH_PARENT, raise_if_not_found=False)
            if not parent:
                raise UserError(
                    _(
                        "Store %(store)s: the company %(company)s is not on the Russian chart of accounts "
                        "(no account 50.01).",
                        store=store.name,
                        company=store.company_id.name,
                    )
                )
            number = store._ru_cash_number()
            if not store.ru_cash_account_id:
                store.ru_cash_account_id = self.env["account.account"].create(
                    {
                        "code": f"{parent.code}.{number}",
                        "name": _("Cash: %s", store.name),
                        "account_type": "asset_cash",
                        "company_id": store.company_id.id,
                    }
                )
            if not store.ru_cash_journal_id:
                store.ru_cash_journal_id = self.env["account.journal"].create(
                    {
                        "name": _("Cash %s", store.name),
                        "type": "cash",
                        "code": f"CS{number}",
                        "company_id": store.company_id.id,
                        "default_account_id": store.ru_cash_account_id.id,
                        "profit_account_id": chart.ref(CASH_OVER).id,
                        "loss_account_id": chart.ref(CASH_SHORT).id,
                    }
                )
            store._ru_link_pos_configs()
        return True

    def _ru_cash_number(self):
        """NN of 50.01.NN: the store's own if it has an account, else the lowest number no cash account or
        journal code of the company uses (two digits; three past 99 stores)."""
        self.ensure_one()
        if self.ru_cash_account_id:
            return self.ru_cash_account_id.code.rsplit(".", 1)[-1]
        accounts = self.env["account.account"].search(
            [("company_id", "=", self.company_id.id), ("code", "=like", "50.01.%")]
        )
        codes = set(
            self.env["account.journal"].search([("company_id", "=", self.company_id.id)]).mapped("code")
        )
        used = {code.rsplit(".", 1)[-1] for code in accounts.mapped("code")}
        n = 1
        while f"{n:02d}" in used or f"CS{n:02d}" in codes:
            n += 1
        return f"{n:02d}"

    def _ru_pos_configs(self):
        self.ensure_one()
        return self.env["pos.config"].search([("picking_type_id.warehouse_id", "=", self.id)])

    def _ru_link_pos_configs(self):
        """The store's POS configs take cash through the store's journal: a cash payment method used only by
        this store's configs is moved to the journal; one shared with other stores is replaced, for this
        store, by the store's own method."""
        self.ensure_one()
        configs = self._ru_pos_configs()
        if not configs:
            return
        journal = self.ru_cash_journal_id
        open_sessions = configs.session_ids.filtered(lambda s: s.state != "closed")
        methods = configs.payment_method_ids.filtered(lambda m: m.is_cash_count and m.journal_id != journal)
        if methods and open_sessions:
            raise UserError(
                _(
                    "Store %(store)s: close the open POS sessions (%(sessions)s) before its cash moves to "
                    "the store's journal.",
                    store=self.name,
                    sessions=", ".join(open_sessions.mapped("name")),
                )
            )
        own = self.env["pos.payment.method"].search([("journal_id", "=", journal.id)], limit=1)
        for method in methods:
            users = self.env["pos.config"].search([("payment_method_ids", "in", method.id)])
            if not (users - configs) and not own:
                method.journal_id = journal
                own = method
                continue
            if not own:
                own = method.copy({"name": _("Cash %s", self.name), "journal_id": journal.id})
            for config in configs.filtered(lambda c, m=method: m in c.payment_method_ids):
                config.payment_method_ids = [(3, method.id), (4, own.id)]
