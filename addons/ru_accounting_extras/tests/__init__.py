# Tests of ru_accounting_extras (TransactionCase; run by the Odoo bench).
from . import (
    test_acquiring,
    test_advances,
    test_cash_limit,
    test_cash_limit_tour,
    test_cash_orders,
    test_cash_transfer,
    test_cash_transfer_orders,
    test_chart,
    test_chart_taxes,
    test_gross_profit,
    test_store_cash,
    test_translation,
)
