# Wizards of ru_accounting_extras: the cash book (KO-4) of a store over a period.
from . import cash_book_wizard
