# Tests of ru_accounting_extras (TransactionCase; run by the Odoo bench).
from . import test_cash_orders, test_chart
