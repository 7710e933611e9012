# The cash orders of a cash transfer: the cash leaving the source store is an outgoing order (KO-2), the cash
# arriving at a store an incoming order (KO-1), and a transfer cancelled in transit an incoming order at the
# source (the cash came back). A bank destination has no order: the bank statement documents it.
from odoo import _, models

from .cash_transfer import TRANSIT_ACCOUNT


class AccountCashTransfer(models.Model):
    _inherit = "account.cash.transfer"

    def _ru_cash_order_hook(self, event):
        """Make the event's cash order (idempotent per transfer and order type). Through sudo: the transfer's
        own checks have already decided that the user may send, receive or cancel it."""
        res = super()._ru_cash_order_hook(event)
        Order = self.env["ru.cash.order"].sudo()
        transit = self.env["account.chart.template"].with_company(self.company_id).ref(TRANSIT_ACCOUNT)
        common = {"origin": self, "account": transit, "amount": self.amount, "cashier": self.env.user}
        if event == "sent":
            Order._ru_create_for(
                order_type="out",
                store=self.source_store_id,
                basis=_(
                    "Cash handed over: transfer %(name)s to %(to)s",
                    name=self.name,
                    to=self._ru_destination_name(),
                ),
                counterpart=self.carrier or self._ru_destination_name(),
                date=self.date_sent,
                move=self.sent_move_id,
                **common,
            )
        elif event == "received" and self.destination_type == "store":
            Order._ru_create_for(
                order_type="in",
                store=self.destination_store_id,
                basis=_(
                    "Cash received: transfer %(name)s from %(store)s",
                    name=self.name,
                    store=self.source_store_id.name,
                ),
                counterpart=self.carrier or self.source_store_id.name,
                date=self.date_received,
                move=self.received_move_id,
                **common,
            )
        elif event == "cancelled" and self.cancel_move_id:
            Order._ru_create_for(
                order_type="in",
                store=self.source_store_id,
                basis=_("Cash returned: transfer %s cancelled in transit", self.name),
                counterpart=self.carrier or self.source_store_id.name,
                date=self.cancel_move_id.date,
                move=self.cancel_move_id,
                **common,
            )
        return res


class RuCashOrder(models.Model):
    _inherit = "ru.cash.order"

    def _ru_origin_models(self):
        return [*super()._ru_origin_models(), "account.cash.transfer"]
