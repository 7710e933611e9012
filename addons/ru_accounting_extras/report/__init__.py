# Reports of ru_accounting_extras: the gross-profit workbook.
from . import gross_profit_xlsx
