# Cash orders made by the POS: one per till's Z report (the shift's cash takings; 3210-U allows one incoming
# order per shift built from the KKT's fiscal documents) and one per POS cash in / cash out. Only stores
# whose cash is set up (a 50.01.NN account) get orders: other companies' POS are left alone.
import logging

import pytz

from odoo import _, api, fields, models

_logger = logging.getLogger(__name__)

#: Corresponding account of a Z report's cash: 90.01.1 revenue. Retail takings are documented as revenue
#: (Dt 50.01.NN Ct 90.01.1), as Russian retail books them by the KKT's report; 62.01 would be for buyers
#: who owe money, which retail buyers at a till do not. Advances for glasses jobs taken in cash are in the
#: Z's cash too (the Z has no split by settlement sign): their part belongs to 62.02 — see the user guide.
TAKINGS_ACCOUNT = "ru_acc_90_01_1"
#: Time zone of a Z report's date when neither its till nor the company has one: most stores are Moscow's.
DEFAULT_TZ = "Europe/Moscow"


class PosSession(models.Model):
    _inherit = "pos.session"  # pylint: disable=consider-merging-classes-inherited

    def _ru_cash_store(self):
        """The store (stock.warehouse) of the session's POS if its cash is set up, else no record."""
        self.ensure_one()
        store = self._ru_store()
        return store if store.ru_cash_account_id else store.browse()

    def try_cash_in_out(self, _type, amount, reason, extras):
        """Odoo's cash in / out (a statement line in the session's cash journal), then an order for each
        line: cash in → incoming order (KO-1), cash out → outgoing order (KO-2), the reason as the basis."""
        Line = self.env["account.bank.statement.line"].sudo()
        last = Line.search([("pos_session_id", "in", self.ids)], order="id desc", limit=1).id or 0
        result = super().try_cash_in_out(_type, amount, reason, extras)
        lines = Line.search([("pos_session_id", "in", self.ids), ("id", ">", last)], order="id")
        for line in lines:
            line.pos_session_id._ru_cash_move_order(line, reason)
        return result

    def _ru_cash_move_order(self, line, reason):
        """The order of one POS cash move ``line`` (account.bank.statement.line, amount signed). Its
        corresponding account is the one the line's entry uses (the journal's suspense account until the
        accountant reconciles it); posted at once when there is one, else left in draft."""
        self.ensure_one()
        store = self._ru_cash_store()
        if not store or line.currency_id.is_zero(line.amount):
            return self.env["ru.cash.order"]
        _liquidity, suspense, other = line._seek_for_lines()
        account = (other or suspense)[:1].account_id
        Order = self.env["ru.cash.order"].sudo()
        return Order.create_order(
            {
                "order_type": "in" if line.amount > 0 else "out",
                "store_id": store.id,
                "amount": abs(line.amount),
                "basis": (reason or "").strip() or line.payment_ref,
                "account_id": account.id,
                "date": line.date,
                "move_id": line.move_id.id,
                "cashier_id": self.env.user.id,
                "origin": f"{line._name},{line.id}",
            },
            post=bool(account),
        )


class ShiftReport(models.Model):
    _inherit = "optics.pos.shift.report"

    ru_cash_order_id = fields.Many2one(
        "ru.cash.order", "Cash order", compute="_compute_ru_cash_order_id", compute_sudo=True
    )

    def _compute_ru_cash_order_id(self):
        orders = self.env["ru.cash.order"].search([("shift_report_id", "in", self.ids)])
        by_report = {order.shift_report_id.id: order for order in orders}
        for report in self:
            report.ru_cash_order_id = by_report.get(report.id, False)

    @api.model_create_multi
    def create(self, vals_list):
        reports = super().create(vals_list)
        reports._ru_make_cash_orders()
        return reports

    def _ru_make_cash_orders(self):
        """Exactly one order per Z report with cash (UNIQUE on the order's Z report; a Z delivered again is
        not created again by optics_record_shift_report). The Z's ``cash`` is net: cash sales less cash
        refunds (the adapter's shift totals) — so positive cash is an incoming order of the takings, and a
        shift that refunded more cash than it took is an outgoing order of the difference."""
        Order = self.env["ru.cash.order"].sudo()
        for report in self:
            store = report.session_id._ru_cash_store()
            currency = report.company_id.currency_id
            if (
                not store
                or currency.is_zero(report.cash)
                or Order.search_count([("shift_report_id", "=", report.id)])
            ):
                continue
            chart = self.env["account.chart.template"].with_company(report.company_id)
            Order.create_order(
                {
                    "order_type": "in" if report.cash > 0 else "out",
                    "store_id": store.id,
                    "amount": abs(report.cash),
                    "basis": report._ru_cash_basis(),
                    "counterpart": report.session_id.user_id.name,
                    "account_id": chart.ref(TAKINGS_ACCOUNT, raise_if_not_found=False).id,
                    "date": report._ru_local_date(),
                    "cashier_id": report.session_id.user_id.id,
                    "shift_report_id": report.id,
                }
            )

    def _ru_cash_basis(self):
        """«Основание» in the company's language (it is printed on the company's forms)."""
        self.ensure_one()
        return self.with_context(lang=self.company_id.partner_id.lang or self.env.lang)._ru_cash_basis_text()

    def _ru_cash_basis_text(self):
        if self.cash > 0:
            return _(
                "Takings by Z report No. %(shift)s, KKT %(pos)s", shift=self.shift_number, pos=self.pos_id
            )
        return _(
            "Cash refunds to buyers by Z report No. %(shift)s, KKT %(pos)s",
            shift=self.shift_number,
            pos=self.pos_id,
        )

    def _ru_local_date(self):
        """The day the shift closed in the store's time zone: its till's, else the company's, else Moscow."""
        self.ensure_one()
        moment = self.closed_at or self.session_id.stop_at
        if not moment:
            return fields.Date.context_today(self)
        till = self.env["pos.offline.buffer.status"].sudo().search([("pos_id", "=", self.pos_id)], limit=1)
        tz_name = till.tz or self.company_id.partner_id.tz or DEFAULT_TZ
        return pytz.utc.localize(moment).astimezone(pytz.timezone(tz_name)).date()
