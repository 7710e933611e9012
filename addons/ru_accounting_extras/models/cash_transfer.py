# Cash transfers between stores, or from a store to the bank, through 57.01 "transfers in transit": sending
# posts Dt 57.01 Ct the source store's cash (50.01.NN), receiving posts Dt the destination's cash or bank
# account Ct 57.01, and the two 57.01 lines are reconciled so 57.01 nets to zero per transfer.
#
# Every posting is an account.bank.statement.line in the store's cash journal (or the bank journal) whose
# counterpart is 57.01, as Odoo 17 itself posts cash moves (POS cash in/out and closing differences): the
# journals' statements stay complete and the bank's reconciliation sees the deposit as a reconciled line.
import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

#: Transfers in transit (l10n_ru template id): reconcilable, typed asset_current by chart_template.py.
TRANSIT_ACCOUNT = "ru_acc_57_01"

#: Fields that define the money moved: frozen once the transfer is sent (its entries are built from them).
FROZEN_FIELDS = {
    "company_id",
    "source_store_id",
    "destination_type",
    "destination_store_id",
    "destination_journal_id",
    "amount",
    "date_sent",
}


class AccountCashTransfer(models.Model):
    _name = "account.cash.transfer"
    _description = "Cash transfer"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_sent desc, id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference",
        required=True,
        readonly=True,
        copy=False,
        default="/",
        help="CT/yyyy/nnnnn, given at creation (sequence account.cash.transfer).",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, tracking=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id", string="Currency")
    source_store_id = fields.Many2one(
        "stock.warehouse",
        string="From store",
        required=True,
        check_company=True,
        tracking=True,
        domain="[('ru_cash_journal_id', '!=', False)]",
        help="The store whose cash is sent: its cash account 50.01.NN is credited.",
    )
    destination_type = fields.Selection(
        [("store", "Another store"), ("bank", "Bank")],
        string="Destination",
        required=True,
        default="store",
        tracking=True,
    )
    destination_store_id = fields.Many2one(
        "stock.warehouse",
        string="To store",
        check_company=True,
        tracking=True,
        domain="[('ru_cash_journal_id', '!=', False), ('id', '!=', source_store_id)]",
        help="The store receiving the cash: its cash account 50.01.NN is debited on receipt.",
    )
    destination_journal_id = fields.Many2one(
        "account.journal",
        string="To bank account",
        check_company=True,
        tracking=True,
        domain="[('type', '=', 'bank')]",
        help="The bank journal the cash is paid into: its account (51) is debited on receipt.",
    )
    amount = fields.Monetary(required=True, tracking=True, currency_field="currency_id")
    date_sent = fields.Date(
        string="Sent on",
        required=True,
        default=fields.Date.context_today,
        tracking=True,
        help="The date of the sending entry (Dt 57.01 Ct 50.01.NN).",
    )
    date_received = fields.Date(
        string="Received on",
        copy=False,
        tracking=True,
        help="The date of the receiving entry; today when left empty at receipt.",
    )
    carrier = fields.Char(
        string="Courier / carrier",
        tracking=True,
        help="Who carries the cash: an employee, or the cash-collection service (инкассация).",
    )
    bag_number = fields.Char(string="Bag / seal number", tracking=True)
    note = fields.Text()
    state = fields.Selection(
        [("draft", "Draft"), ("sent", "In transit"), ("received", "Received"), ("cancelled", "Cancelled")],
        required=True,
        default="draft",
        readonly=True,
        copy=False,
        tracking=True,
    )
    sent_move_id = fields.Many2one(
        "account.move", string="Sending entry", readonly=True, copy=False, check_company=True
    )
    received_move_id = fields.Many2one(
        "account.move", string="Receiving entry", readonly=True, copy=False, check_company=True
    )
    cancel_move_id = fields.Many2one(
        "account.move",
        string="Reversal entry",
        readonly=True,
        copy=False,
        check_company=True,
        help="Cancelling a sent transfer: Dt 50.01.NN Ct 57.01, reconciled with the sending entry.",
    )

    # ------------------------------------------------------------------ constraints

    @api.constrains("amount")
    def _check_amount(self):
        for transfer in self:
            if transfer.currency_id.compare_amounts(transfer.amount, 0.0) <= 0:
                raise ValidationError(_("Transfer %s: the amount must be positive.", transfer.name))

    @api.constrains("destination_type", "source_store_id", "destination_store_id", "destination_journal_id")
    def _check_destination(self):
        for transfer in self:
            if transfer.destination_type == "store":
                if not transfer.destination_store_id:
                    raise ValidationError(
                        _("Transfer %s: choose the store receiving the cash.", transfer.name)
                    )
                if transfer.destination_store_id == transfer.source_store_id:
                    raise ValidationError(
                        _(
                            "Transfer %s: the cash cannot be transferred to the store it comes from.",
                            transfer.name,
                        )
                    )
                if transfer.destination_journal_id:
                    raise ValidationError(
                        _("Transfer %s: a transfer to a store has no bank account.", transfer.name)
                    )
            else:
                journal = transfer.destination_journal_id
                if not journal:
                    raise ValidationError(_("Transfer %s: choose the bank account.", transfer.name))
                if journal.type != "bank":
                    raise ValidationError(
                        _(
                            "Transfer %(name)s: %(journal)s is not a bank journal.",
                            name=transfer.name,
                            journal=journal.name,
                        )
                    )
                if journal.currency_id and journal.currency_id != transfer.currency_id:
                    raise ValidationError(
                        _(
                            "Transfer %(name)s: the bank account %(journal)s is in %(currency)s; store "
                            "cash is paid into an account in the company's currency.",
                            name=transfer.name,
                            journal=journal.name,
                            currency=journal.currency_id.name,
                        )
                    )
                if transfer.destination_store_id:
                    raise ValidationError(
                        _("Transfer %s: a transfer to the bank has no store.", transfer.name)
                    )

    @api.constrains("date_sent", "date_received")
    def _check_dates(self):
        for transfer in self:
            if transfer.date_received and transfer.date_received < transfer.date_sent:
                raise ValidationError(
                    _("Transfer %s: the cash cannot be received before it is sent.", transfer.name)
                )

    @api.onchange("destination_type")
    def _onchange_destination_type(self):
        if self.destination_type == "store":
            self.destination_journal_id = False
        else:
            self.destination_store_id = False

    # ------------------------------------------------------------------ ORM

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("account.cash.transfer") or "/"
        return super().create(vals_list)

    def write(self, vals):
        if FROZEN_FIELDS.intersection(vals):
            for transfer in self.filtered(lambda t: t.state != "draft"):
                raise UserError(
                    _(
                        "Transfer %s is no longer a draft: its stores, amount and sending date cannot "
                        "change.",
                        transfer.name,
                    )
                )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_draft(self):
        for transfer in self.filtered(lambda t: t.state != "draft"):
            raise UserError(_("Transfer %s is not a draft: cancel it instead of deleting it.", transfer.name))

    # ------------------------------------------------------------------ actions

    def action_send(self):
        """Draft → in transit: Dt 57.01 Ct the source store's cash, in the store's cash journal, if the
        store's cash holds the amount."""
        for transfer in self:
            transfer._ru_lock()
            transfer._ru_check_state("draft", _("sent"))
            transfer._ru_check_store_user(transfer.source_store_id)
            source = transfer._ru_store_cash(transfer.source_store_id)
            if transfer.destination_type == "store":
                transfer._ru_store_cash(transfer.destination_store_id)
            transfer._ru_check_balance()
            line = transfer._ru_post(
                source,
                -transfer.amount,
                transfer.date_sent,
                _("%(name)s: cash to %(to)s", name=transfer.name, to=transfer._ru_destination_name()),
            )
            transfer.write({"state": "sent", "sent_move_id": line.move_id.id})
            transfer._ru_cash_order_hook("sent")
        return True

    def action_receive(self):
        """In transit → received: Dt the destination's cash (or bank) account Ct 57.01, reconciled with the
        sending entry's 57.01 line."""
        for transfer in self:
            transfer._ru_lock()
            transfer._ru_check_state("sent", _("received"))
            if transfer.destination_type == "store":
                transfer._ru_check_store_user(transfer.destination_store_id)
                journal = transfer._ru_store_cash(transfer.destination_store_id)
            else:
                transfer._ru_check_chief()
                journal = transfer.destination_journal_id
            date = transfer.date_received or fields.Date.context_today(transfer)
            if date < transfer.date_sent:
                raise UserError(
                    _("Transfer %s: the cash cannot be received before it is sent.", transfer.name)
                )
            line = transfer._ru_post(
                journal,
                transfer.amount,
                date,
                _("%(name)s: cash from %(store)s", name=transfer.name, store=transfer.source_store_id.name),
            )
            transfer._ru_reconcile(line)
            transfer.write({"state": "received", "date_received": date, "received_move_id": line.move_id.id})
            transfer._ru_cash_order_hook("received")
        return True

    def action_cancel(self):
        """Draft → cancelled; in transit → cancelled with the cash back in the source store: Dt 50.01.NN
        Ct 57.01 on today's date, reconciled with the sending entry. A received transfer is final."""
        for transfer in self:
            transfer._ru_lock()
            if transfer.state not in ("draft", "sent"):
                raise UserError(
                    _(
                        "Transfer %(name)s is %(state)s: only a draft or a transfer in transit can be "
                        "cancelled.",
                        name=transfer.name,
                        state=dict(transfer._fields["state"]._description_selection(transfer.env))[
                            transfer.state
                        ],
                    )
                )
            transfer._ru_check_store_user(transfer.source_store_id)
            vals = {"state": "cancelled"}
            if transfer.state == "sent":
                journal = transfer.sent_move_id.journal_id
                line = transfer._ru_post(
                    journal,
                    transfer.amount,
                    max(fields.Date.context_today(transfer), transfer.date_sent),
                    _("%s: cancelled, cash back", transfer.name),
                )
                transfer._ru_reconcile(line)
                vals["cancel_move_id"] = line.move_id.id
            transfer.write(vals)
            transfer._ru_cash_order_hook("cancelled")
        return True

    def _ru_cash_order_hook(self, event):
        """Called once the transfer is posted: event "sent" (the source store's cash out), "received" (the
        destination's cash in) or "cancelled" (after the write; the cash back at the source when the transfer
        was in transit). The cash orders (KO-1/KO-2) hook in here: models/cash_transfer_orders.py."""
        return None

    # ------------------------------------------------------------------ helpers

    def _ru_lock(self):
        """Lock the transfer's row for this transaction, then re-read its state: a second send, receipt or
        cancel running at the same time fails here instead of posting twice."""
        self.ensure_one()
        self.flush_recordset()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "SELECT id FROM account_cash_transfer WHERE id = %s FOR NO KEY UPDATE NOWAIT", [self.id]
                )
        except psycopg2.errors.LockNotAvailable:
            raise UserError(
                _("Transfer %s is being processed by someone else; reload it and try again.", self.name)
            ) from None
        self.invalidate_recordset()

    def _ru_check_state(self, state, what):
        if self.state != state:
            raise UserError(
                _(
                    "Transfer %(name)s cannot be %(what)s: it is %(state)s.",
                    name=self.name,
                    what=what,
                    state=dict(self._fields["state"]._description_selection(self.env))[self.state],
                )
            )

    def _ru_is_chief(self):
        return self.env.su or self.env.user.has_group("ru_accounting_extras.group_chief_accountant")

    def _ru_check_chief(self):
        if not self._ru_is_chief():
            raise AccessError(
                _("Transfer %s: only the chief accountant confirms that cash reached the bank.", self.name)
            )

    def _ru_check_store_user(self, store):
        """The chief accountant acts for every store; a store accountant for the stores in their Stores."""
        if self._ru_is_chief():
            return
        user = self.env.user
        if (
            not user.has_group("ru_accounting_extras.group_store_accountant")
            or store not in user.optics_store_ids
        ):
            raise AccessError(
                _(
                    "Transfer %(name)s: you are not an accountant of the store %(store)s.",
                    name=self.name,
                    store=store.name,
                )
            )

    def _ru_store_cash(self, store):
        """The store's cash journal, refusing a store whose cash is not set up."""
        journal = store.ru_cash_journal_id
        if (
            not journal
            or not store.ru_cash_account_id
            or journal.default_account_id != store.ru_cash_account_id
        ):
            raise UserError(
                _(
                    "Transfer %(name)s: the store %(store)s has no cash set up (Set up cash on the store).",
                    name=self.name,
                    store=store.name,
                )
            )
        return journal

    def _ru_transit_account(self):
        account = (
            self.env["account.chart.template"]
            .with_company(self.company_id)
            .ref(TRANSIT_ACCOUNT, raise_if_not_found=False)
        )
        if not account:
            raise UserError(
                _("Transfer %s: the company has no account 57.01 (not on the Russian chart).", self.name)
            )
        return account

    def _ru_cash_balance(self, account, date=None):
        """Posted balance of a cash account (Dt − Ct), up to a date if given."""
        domain = [
            ("account_id", "=", account.id),
            ("company_id", "=", self.company_id.id),
            ("parent_state", "=", "posted"),
        ]
        if date:
            domain.append(("date", "<=", date))
        [(balance,)] = self.env["account.move.line"].sudo()._read_group(domain, aggregates=["balance:sum"])
        return balance or 0.0

    def _ru_check_balance(self):
        """The cash sent must be in the store's cash, both on the sending date and now (a later withdrawal
        must not be uncovered by a back-dated transfer). Sends from one store wait for each other."""
        store = self.source_store_id
        self.env.cr.execute("SELECT id FROM stock_warehouse WHERE id = %s FOR NO KEY UPDATE", [store.id])
        account = store.ru_cash_account_id
        balance = min(self._ru_cash_balance(account, self.date_sent), self._ru_cash_balance(account))
        if self.currency_id.compare_amounts(self.amount, balance) > 0:
            raise UserError(
                _(
                    "Transfer %(name)s: the store %(store)s has %(balance)s in cash (%(account)s), less "
                    "than the %(amount)s to send.",
                    name=self.name,
                    store=store.name,
                    balance=self.currency_id.format(balance),
                    account=account.code,
                    amount=self.currency_id.format(self.amount),
                )
            )

    def _ru_destination_name(self):
        if self.destination_type == "store":
            return self.destination_store_id.name
        return self.destination_journal_id.name

    def _ru_post(self, journal, amount, date, label):
        """Post a statement line of `amount` (positive: cash in) in a cash or bank journal, counterpart 57.01;
        return its 57.01 line. The caller has checked the user's right on the store: the entry is posted as
        superuser, as POS posts cash moves, since store accountants (Billing) cannot write statements."""
        st_line = (
            self.env["account.bank.statement.line"]
            .sudo()
            .create(
                {
                    "journal_id": journal.id,
                    "date": date,
                    "amount": amount,
                    "payment_ref": label,
                    "counterpart_account_id": self._ru_transit_account().id,
                }
            )
        )
        return st_line.move_id.line_ids.filtered(lambda line: line.account_id == self._ru_transit_account())

    def _ru_reconcile(self, line):
        """Reconcile a 57.01 line with the sending entry's: the transfer's 57.01 nets to zero."""
        sent = self.sent_move_id.line_ids.filtered(lambda aml: aml.account_id == line.account_id)
        (sent | line).sudo().reconcile()
