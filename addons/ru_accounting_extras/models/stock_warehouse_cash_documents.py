# What the cash forms print of a store: its cashier, the accountant checking its cash book and the cash the
# book started with; setting a store's cash up also gives its company its numbering of cash orders.
# (Named to load after stock_warehouse.py: its action_ru_setup_cash is the one this file extends.)
from odoo import fields, models

from .res_company_cash_documents import SEQUENCE_TEMPLATES


class StockWarehouse(models.Model):
    # stock_warehouse.py sets the cash up; this file adds what the forms print (one job a file).
    _inherit = "stock.warehouse"  # pylint: disable=consider-merging-classes-inherited

    ru_cashier_name = fields.Char(
        "Cashier",
        help="Full name of the store's cashier, signed on the store's cash book (KO-4). Cash orders print "
        "the cashier who took or paid out the cash.",
    )
    ru_accountant_name = fields.Char(
        "Accountant checking the cash book",
        help="Full name signed as «Бухгалтер» under each sheet of the store's cash book; empty: the "
        "company's chief accountant.",
    )
    ru_cash_book_opening = fields.Monetary(
        "Cash book opening balance",
        currency_field="ru_currency_id",
        help="Cash in the store's till when its cash book started in Odoo (carried over from the paper "
        "book). Each sheet's opening balance is this plus the posted incoming orders, less the posted "
        "outgoing orders, dated before the sheet's day.",
    )

    def action_ru_setup_cash(self):
        """Setting a store's cash up also gives its company its own numbering of cash orders."""
        result = super().action_ru_setup_cash()
        for company in self.company_id:
            for order_type in SEQUENCE_TEMPLATES:
                company._ru_cash_order_sequence(order_type)
        return result
