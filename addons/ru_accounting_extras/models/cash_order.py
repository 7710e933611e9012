# Cash orders of the stores (Bank of Russia instruction 3210-U): incoming (приходный кассовый ордер, KO-1,
# OKUD 0310001) and outgoing (расходный кассовый ордер, KO-2, OKUD 0310002). Each order documents one
# movement of a store's cash; posted orders are what the store's cash book (KO-4) lists. Orders come from the
# tills' Z reports and POS cash in / out (cash_order_sources.py), from other models through
# ``create_order`` / ``_ru_create_for``, or are entered by hand.
from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .cash_amount_words import date_in_words, rubles_in_figures, rubles_in_words

ORDER_TYPES = [("in", "Incoming (KO-1)"), ("out", "Outgoing (KO-2)")]
#: The forms' codes in the All-Russian classifier of management documents (ОКУД).
OKUD = {"in": "0310001", "out": "0310002"}


class CashOrder(models.Model):
    _name = "ru.cash.order"
    _description = "Cash order (KO-1 / KO-2)"
    _inherit = ["mail.thread"]
    _order = "date desc, order_type, id desc"
    _check_company_auto = True

    name = fields.Char(
        "Number",
        readonly=True,
        copy=False,
        tracking=True,
        help="Given when the order is posted: incoming and outgoing orders are numbered separately, from 1 "
        "each calendar year, per company, without gaps. A cancelled order keeps its number.",
    )
    order_type = fields.Selection(ORDER_TYPES, "Type", required=True, default="in", tracking=True)
    date = fields.Date(required=True, default=fields.Date.context_today, tracking=True)
    store_id = fields.Many2one(
        "stock.warehouse",
        required=True,
        index=True,
        domain="[('ru_cash_journal_id', '!=', False)]",
        help="The store whose cash the order moves (its cash must be set up: account 50.01.NN).",
    )
    company_id = fields.Many2one(related="store_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount = fields.Monetary(required=True, tracking=True)
    counterpart = fields.Char(
        "Received from / paid to",
        help="KO-1 «Принято от»: who hands the cash in; KO-2 «Выдать»: who receives it (full name, or the "
        "organisation and its representative).",
    )
    basis = fields.Char(required=True, help="«Основание»: what the cash is for.")
    attachment_note = fields.Char("Attachment", help="«Приложение»: the documents attached to the order.")
    account_id = fields.Many2one(
        "account.account",
        "Corresponding account",
        check_company=True,
        help="«Кор. счёт»: the account the cash account 50.01.NN corresponds with (credited by an incoming "
        "order, debited by an outgoing one).",
    )
    cashier_id = fields.Many2one(
        "res.users",
        default=lambda self: self.env.user,
        help="Who took in or paid out the cash; signs the order.",
    )
    shift_report_id = fields.Many2one(
        "optics.pos.shift.report",
        "Z report",
        readonly=True,
        index="btree_not_null",
        ondelete="restrict",
        copy=False,
        help="The till's Z report whose cash takings this order documents (one order per Z report).",
    )
    origin = fields.Reference(
        selection="_selection_origin",
        string="Source document",
        readonly=True,
        copy=False,
        help="The record the order was made for (a POS cash in / out, a cash transfer, …).",
    )
    move_id = fields.Many2one(
        "account.move", "Journal entry", check_company=True, copy=False, help="The entry the order documents."
    )
    state = fields.Selection(
        [("draft", "Draft"), ("posted", "Posted"), ("cancelled", "Cancelled")],
        required=True,
        default="draft",
        readonly=True,
        copy=False,
        tracking=True,
    )

    _sql_constraints = [
        ("amount_positive", "CHECK(amount > 0)", "The amount of a cash order must be positive."),
        ("shift_report_unique", "UNIQUE(shift_report_id)", "This Z report already has its cash order."),
        (
            "origin_unique",
            "UNIQUE(origin, order_type)",
            "This source document already has a cash order of this type.",
        ),
    ]

    def init(self):
        # Numbers are unique per company, type and calendar year (an expression, hence not _sql_constraints).
        self.env.cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS ru_cash_order_number_unique
               ON ru_cash_order (company_id, order_type, (EXTRACT(YEAR FROM date)), name)
               WHERE name IS NOT NULL"""
        )

    @api.model
    def _ru_origin_models(self):
        """Models an order's ``origin`` may point to; modules making orders from their records add theirs."""
        return ["account.bank.statement.line"]

    @api.model
    def _selection_origin(self):
        return [
            (model, self.env[model]._description) for model in self._ru_origin_models() if model in self.env
        ]

    @api.depends("order_type", "name", "date")
    def _compute_display_name(self):
        for order in self:
            form = _("KO-1") if order.order_type == "in" else _("KO-2")
            order.display_name = _(
                "%(form)s No. %(number)s of %(date)s",
                form=form,
                number=order.name or _("(draft)"),
                date=order.date and order.date.strftime("%d.%m.%Y"),
            )

    # --- the creation API other models call ------------------------------------------------------------

    @api.model
    def create_order(self, vals, post=True):
        """Create a cash order from ``vals`` (the fields of this model) and post it unless ``post`` is
        False. Idempotent for a source document: when ``vals`` has an ``origin`` ("model,id") that already
        has an order of the same type, that order is returned and nothing is created. Access rights are the
        caller's: a process working for a user without accounting rights calls it through sudo()."""
        if vals.get("origin"):
            known = self.search(
                [("origin", "=", vals["origin"]), ("order_type", "=", vals.get("order_type", "in"))], limit=1
            )
            if known:
                return known
        order = self.create(vals)
        if post:
            order.action_post()
        return order

    @api.model
    def _ru_create_for(
        self,
        origin,
        order_type,
        store,
        amount,
        basis,
        account=None,
        counterpart=False,
        date=None,
        move=None,
        cashier=None,
    ):
        """The posted cash order of ``store`` moving ``amount`` (> 0) in (``order_type`` 'in', KO-1) or out
        ('out', KO-2) for the record ``origin`` — e.g. a cash transfer: its collection is an outgoing order
        at the source store, its arrival an incoming order at the destination. ``account``: the
        corresponding account (account.account); ``date`` defaults to today; ``move``: the journal entry
        the order documents; ``cashier`` (res.users) defaults to the current user. Returns the existing
        order if ``origin`` already has one of this type, and no order (an empty recordset) for a zero
        amount. ``origin``'s model must be one of ``_ru_origin_models``."""
        if store.company_id.currency_id.is_zero(amount):
            return self.browse()
        if amount < 0:
            raise ValidationError(
                _("A cash order moves a positive amount: make an outgoing order to pay cash out.")
            )
        vals = {
            "order_type": order_type,
            "store_id": store.id,
            "amount": amount,
            "basis": basis,
            "counterpart": counterpart,
            "account_id": account.id if account else False,
            "date": date or fields.Date.context_today(self),
            "move_id": move.id if move else False,
            "origin": f"{origin._name},{origin.id}",
        }
        if cashier:
            vals["cashier_id"] = cashier.id
        return self.create_order(vals)

    # --- workflow ----------------------------------------------------------------------------------------

    def action_post(self):
        """Post draft orders: check them and give those without one their number (from the company's
        sequence of the type, in the year of the order's date)."""
        for order in self.filtered(lambda o: o.state == "draft"):
            order._ru_check_postable()
            if not order.name:
                sequence = order.company_id._ru_cash_order_sequence(order.order_type)
                order.name = sequence.next_by_id(sequence_date=order.date)
            order.state = "posted"
        return True

    def _ru_check_postable(self):
        self.ensure_one()
        if not self.store_id.ru_cash_account_id:
            raise UserError(
                _(
                    "Store %s has no cash account: set its cash up (Set up cash on the store) before posting "
                    "cash orders.",
                    self.store_id.name,
                )
            )
        if not self.account_id:
            raise UserError(_("Cash order %s: choose its corresponding account.", self.display_name))

    def action_cancel(self):
        """Cancel orders (a posted order keeps its number and leaves the cash book)."""
        self.write({"state": "cancelled"})
        return True

    def action_draft(self):
        """Back to draft for a correction; the number is kept and given back at posting."""
        self.write({"state": "draft"})
        return True

    @api.ondelete(at_uninstall=False)
    def _unlink_only_unnumbered_drafts(self):
        numbered = self.filtered(lambda o: o.state != "draft" or o.name)
        if numbered:
            raise UserError(
                _(
                    "Cash orders that were posted keep their number: cancel them instead of deleting (%s).",
                    ", ".join(numbered.mapped("display_name")),
                )
            )

    @api.constrains("store_id", "account_id")
    def _check_not_own_cash_account(self):
        for order in self:
            if order.account_id and order.account_id == order.store_id.ru_cash_account_id:
                raise ValidationError(
                    _("The corresponding account of a cash order cannot be the store's own cash account.")
                )

    # --- what the printed forms show ----------------------------------------------------------------

    def _ru_okud(self):
        self.ensure_one()
        return OKUD[self.order_type]

    def _ru_amount_figures(self):
        self.ensure_one()
        return rubles_in_figures(self.amount)

    def _ru_amount_words(self):
        """The amount in words, in Russian: the forms are Russian whatever the user's language."""
        self.ensure_one()
        if self.currency_id.name == "RUB":
            return rubles_in_words(self.amount)
        return self.currency_id.with_context(lang="ru_RU").amount_to_text(self.amount)

    def _ru_date_words(self):
        self.ensure_one()
        return date_in_words(self.date)

    def _ru_cashier_name(self):
        self.ensure_one()
        return self.cashier_id.name or self.store_id.ru_cashier_name or ""
