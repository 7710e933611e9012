# Models of ru_accounting_extras, one concern per file.
from . import chart_template, gross_profit_report, stock_warehouse
