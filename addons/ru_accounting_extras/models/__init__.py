# Models of ru_accounting_extras, one concern per file.
from . import (
    acquiring,
    advances,
    advances_session,
    chart_template,
    pos_payment_method,
    stock_warehouse,
)
