# Wizards of ru_accounting_extras: the cash book (KO-4) of a store over a period, card takings clearing,
# the gross-profit export.
from . import acquiring_clearing, cash_book_wizard, gross_profit_wizard
