# Models of ru_accounting_extras, one concern per file.
from . import cash_transfer, chart_template, pos_session, stock_warehouse
