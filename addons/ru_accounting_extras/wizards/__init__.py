# Wizards of ru_accounting_extras: the gross-profit export.
from . import gross_profit_wizard
