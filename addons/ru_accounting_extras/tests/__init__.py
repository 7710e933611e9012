# Tests of ru_accounting_extras (TransactionCase; run by the Odoo bench).
from . import test_chart, test_gross_profit
