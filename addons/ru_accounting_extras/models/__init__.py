# Models of ru_accounting_extras, one concern per file.
from . import (
    acquiring,
    advances,
    advances_session,
    cash_order,
    cash_order_sources,
    cash_transfer,
    cash_transfer_orders,
    chart_template,
    gross_profit_report,
    pos_payment_method,
    pos_session,
    res_company_cash_documents,
    stock_warehouse,
    stock_warehouse_cash_documents,
)
