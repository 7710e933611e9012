# Tests of ru_accounting_extras (TransactionCase; run by the Odoo bench).
from . import test_acquiring, test_advances, test_chart
