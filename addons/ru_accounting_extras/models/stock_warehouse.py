# A store's accounting settings: its cash account (50.01.NN), cash journal and cash limit, and the action that
# creates them and points the store's POS cash payments at them.
from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

#: The parent of the stores' cash accounts (l10n_ru template id).
CASH_PARENT = "ru_acc_50_01"
#: Cash over at close (91.01 other income) and cash short (94 shortages, until charged to the employee).
CASH_OVER = "ru_acc_91_01"
CASH_SHORT = "ru_acc_94"
#: Who may set up a store's cash: it creates accounts and journals and changes the stores' POS settings.
SETUP_GROUP = "ru_accounting_extras.group_chief_accountant"


class StockWarehouse(models.Model):
    _inherit = "stock.warehouse"

    ru_cash_account_id = fields.Many2one(
        "account.account",
        string="Cash account",
        copy=False,
        check_company=True,
        domain="[('account_type', '=', 'asset_cash')]",
        help="The store's own cash account, a sub-account of 50.01 (50.01.NN).",
    )
    ru_cash_journal_id = fields.Many2one(
        "account.journal",
        string="Cash journal",
        copy=False,
        check_company=True,
        domain="[('type', '=', 'cash')]",
        help="The store's cash journal: its (first) POS's cash payments, cash orders and the cash book. Odoo "
        "wants a cash journal per POS: the store's further POS get journals of their own on the same cash "
        "account.",
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
        (
            "ru_cash_limit_positive",
            "CHECK(ru_cash_limit >= 0)",
            "The cash limit cannot be negative (0 means no limit).",
        ),
    ]

    @api.constrains("ru_cash_account_id", "ru_cash_journal_id")
    def _check_ru_cash(self):
        for store in self:
            if store.ru_cash_account_id and store.ru_cash_account_id.account_type != "asset_cash":
                raise ValidationError(
                    _(
                        "Store %(store)s: the cash account %(account)s must be of type Bank and Cash.",
                        store=store.name,
                        account=store.ru_cash_account_id.display_name,
                    )
                )
            if store.ru_cash_journal_id and store.ru_cash_journal_id.type != "cash":
                raise ValidationError(
                    _(
                        "Store %(store)s: the journal %(journal)s is not a cash journal.",
                        store=store.name,
                        journal=store.ru_cash_journal_id.display_name,
                    )
                )

    def action_ru_setup_cash(self):
        """Create what a store's cash needs and is missing (idempotent): the account 50.01.NN, the cash
        journal on it (over → 91.01, short → 94), and the store's POS configs' cash payment method on it.
        Refused for a company not on the Russian chart, and while a POS session of the store is open and its
        cash method would change."""
        if not (self.env.su or self.env.user.has_group(SETUP_GROUP)):
            raise AccessError(_("Only the chief accountant sets up the stores' cash."))
        for store in self:
            chart = self.env["account.chart.template"].with_company(store.company_id)
            parent = chart.ref(CASH_PARENT, raise_if_not_found=False)
            over = chart.ref(CASH_OVER, raise_if_not_found=False)
            short = chart.ref(CASH_SHORT, raise_if_not_found=False)
            if not (parent and over and short):
                raise UserError(
                    _(
                        "Store %(store)s: the company %(company)s is not on the Russian chart of accounts "
                        "(accounts 50.01, 91.01 and 94 are needed).",
                        store=store.name,
                        company=store.company_id.name,
                    )
                )
            store._ru_check_no_open_session()
            number = store._ru_cash_number(parent)
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
                        "profit_account_id": over.id,
                        "loss_account_id": short.id,
                    }
                )
            # The POS settings belong to the POS managers; the group check above stands for them.
            store.sudo()._ru_link_pos_configs()
        return True

    def _ru_cash_number(self, parent):
        """NN of 50.01.NN: the store's own if it has an account, else the lowest number no cash account or
        journal code of the company uses (two digits; three past 99 stores)."""
        self.ensure_one()
        if self.ru_cash_account_id:
            return self.ru_cash_account_id.code.rsplit(".", 1)[-1]
        accounts = self.env["account.account"].search(
            [("company_id", "=", self.company_id.id), ("code", "=like", f"{parent.code}.%")]
        )
        codes = set(
            self.env["account.journal"]
            .with_context(active_test=False)
            .search([("company_id", "=", self.company_id.id)])
            .mapped("code")
        )
        used = {code.rsplit(".", 1)[-1] for code in accounts.mapped("code")}
        n = 1
        while f"{n:02d}" in used or f"CS{n:02d}" in codes:
            n += 1
        return f"{n:02d}"

    def _ru_pos_configs(self):
        """The store's POS configs: those whose operation type belongs to the store's warehouse."""
        self.ensure_one()
        return self.env["pos.config"].search([("picking_type_id.warehouse_id", "=", self.id)])

    def _ru_foreign_cash_methods(self, configs):
        """The cash payment methods of `configs` not booked to the store's cash account (all when it has
        none)."""
        account = self.ru_cash_account_id
        return configs.payment_method_ids.filtered(
            lambda m: m.is_cash_count and (not account or m.journal_id.default_account_id != account)
        )

    def _ru_check_no_open_session(self):
        """A POS session in progress keeps its payment methods: the set-up waits for it to close."""
        self.ensure_one()
        configs = self.sudo()._ru_pos_configs()
        open_sessions = configs.session_ids.filtered(lambda s: s.state != "closed")
        lacking = configs.filtered(lambda c: not c.payment_method_ids.filtered("is_cash_count"))
        if open_sessions and (self.sudo()._ru_foreign_cash_methods(configs) or lacking):
            raise UserError(
                _(
                    "Store %(store)s: close the open POS sessions (%(sessions)s) before its cash moves to "
                    "the store's journal.",
                    store=self.name,
                    sessions=", ".join(open_sessions.mapped("name")),
                )
            )

    def _ru_link_pos_configs(self):
        """Each POS config of the store takes cash on the store's cash account. Odoo wants a cash method per
        config and a cash journal per cash method: the first till takes the store's journal, each further
        till a journal of its own on the same account 50.01.NN (over 91.01, short 94). A till's cash method
        is moved to its journal; a method another config also uses (data from before Odoo forbade it) is
        replaced, on this config, by a copy; a config without a cash method gets a new one."""
        self.ensure_one()
        for config in self._ru_pos_configs():
            for method in self._ru_foreign_cash_methods(config):
                journal = self._ru_free_cash_journal(config)
                if method.config_ids == config:
                    method.journal_id = journal
                    continue
                own = method.copy({"name": self._ru_till_name(config), "journal_id": journal.id})
                config.payment_method_ids = [Command.unlink(method.id), Command.link(own.id)]
            if not config.payment_method_ids.filtered("is_cash_count"):
                own = self.env["pos.payment.method"].create(
                    {
                        "name": self._ru_till_name(config),
                        "journal_id": self._ru_free_cash_journal(config).id,
                        "company_id": self.company_id.id,
                    }
                )
                config.payment_method_ids = [Command.link(own.id)]

    def _ru_free_cash_journal(self, config):
        """The store's journal if no cash method uses it yet, else a new cash journal of `config` on the
        store's cash account with the same over and short accounts."""
        journal = self.ru_cash_journal_id
        if not journal.pos_payment_method_ids:
            return journal
        Journal = self.env["account.journal"]
        return Journal.create(
            {
                "name": self._ru_till_name(config),
                "type": "cash",
                "code": Journal.get_next_bank_cash_default_code("cash", self.company_id),
                "company_id": self.company_id.id,
                "default_account_id": self.ru_cash_account_id.id,
                "profit_account_id": journal.profit_account_id.id,
                "loss_account_id": journal.loss_account_id.id,
            }
        )

    def _ru_till_name(self, config):
        """Name of a till's own cash method or journal: "Cash <store>, <till>"."""
        return _("Cash %(store)s, %(pos)s", store=self.name, pos=config.name)
