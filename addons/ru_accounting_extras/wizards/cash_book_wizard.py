# The cash book (кассовая книга, KO-4, OKUD 0310004) of a store over a period: one sheet per day that has
# posted cash orders, each with the day's opening balance, its orders, the day's totals and the closing
# balance, numbered through the calendar year, signed by the cashier and the accountant.
from datetime import date as Date

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.cash_amount_words import rubles_in_figures, rubles_in_words


class CashBookWizard(models.TransientModel):
    _name = "ru.cash.book.wizard"
    _description = "Cash book (KO-4) of a store"

    store_id = fields.Many2one(
        "stock.warehouse",
        required=True,
        domain="[('ru_cash_journal_id', '!=', False)]",
        default=lambda self: self._default_store(),
    )
    date_from = fields.Date("From", required=True, default=fields.Date.context_today)
    date_to = fields.Date("To", required=True, default=fields.Date.context_today)

    @api.model
    def _default_store(self):
        """The user's first store with cash set up (a store accountant usually keeps one book)."""
        return self.env.user.optics_store_ids.filtered("ru_cash_account_id")[:1]

    def action_print(self):
        self.ensure_one()
        if not self._ru_sheets():
            raise UserError(
                _(
                    "Store %(store)s has no posted cash orders from %(from)s to %(to)s: the cash book has no "
                    "sheet for days without cash.",
                    store=self.store_id.name,
                    **{"from": self.date_from.strftime("%d.%m.%Y"), "to": self.date_to.strftime("%d.%m.%Y")},
                )
            )
        return self.env.ref("ru_accounting_extras.action_report_cash_book").report_action(self)

    def _ru_sheets(self):
        """The sheets of the period, oldest first: a dict per day with posted orders — ``date``, ``number``
        (the sheet's number in its calendar year: the how-many-th day with orders it is since 1 January),
        ``opening``, ``orders`` (incoming first, then outgoing, by number), ``total_in``, ``total_out``,
        ``closing``, ``count_in``, ``count_out``.

        The balances come from the orders, not from the cash account: the book is the register of the
        orders, so each sheet must read opening + incoming − outgoing = closing and open with the previous
        sheet's closing. The 50.01.NN balance also moves by entries that are not cash orders on that day
        (POS session closing entries dated at the close, over / short differences), which would break both.
        The store's ``ru_cash_book_opening`` is the cash before the first order in Odoo."""
        self.ensure_one()
        if self.date_from > self.date_to:
            raise UserError(_("The period of the cash book ends before it starts."))
        Order = self.env["ru.cash.order"]
        store = self.store_id
        posted = [("store_id", "=", store.id), ("state", "=", "posted")]
        opening = store.ru_cash_book_opening
        for order_type, amount in Order._read_group(
            [*posted, ("date", "<", self.date_from)], ["order_type"], ["amount:sum"]
        ):
            opening += amount if order_type == "in" else -amount
        orders = Order.search([*posted, ("date", ">=", self.date_from), ("date", "<=", self.date_to)])
        year_start = Date(self.date_from.year, 1, 1)
        days_before = {
            day
            for [day] in Order._read_group(
                [*posted, ("date", ">=", year_start), ("date", "<", self.date_from)], ["date:day"]
            )
        }
        sheets = []
        number = len(days_before)
        for day in sorted(set(orders.mapped("date"))):
            if sheets and day.year != sheets[-1]["date"].year:
                number = 0  # the sheets are numbered again from 1 January
            number += 1
            today = orders.filtered(lambda o, d=day: o.date == d).sorted(
                lambda o: (o.order_type != "in", int(o.name) if (o.name or "").isdigit() else 0, o.id)
            )
            incoming = today.filtered(lambda o: o.order_type == "in")
            outgoing = today - incoming
            total_in, total_out = sum(incoming.mapped("amount")), sum(outgoing.mapped("amount"))
            closing = opening + total_in - total_out
            sheets.append(
                {
                    "date": day,
                    "number": number,
                    "opening": opening,
                    "orders": today,
                    "total_in": total_in,
                    "total_out": total_out,
                    "closing": closing,
                    "count_in": len(incoming),
                    "count_out": len(outgoing),
                    "cashier": store.ru_cashier_name
                    or ", ".join(dict.fromkeys(today.cashier_id.mapped("name"))),
                    "accountant": store.ru_accountant_name or store.company_id.ru_chief_accountant_name or "",
                }
            )
            opening = closing
        return sheets

    @api.model
    def _ru_figures(self, amount):
        """An amount as the form prints it ("12 345,67")."""
        return rubles_in_figures(amount)

    @api.model
    def _ru_words(self, amount):
        return rubles_in_words(amount)
