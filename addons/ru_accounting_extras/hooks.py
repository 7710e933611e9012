# Install hook of ru_accounting_extras: companies already on the Russian chart get its corrections.
def post_init_hook(env):
    chart = env["account.chart.template"]
    for company in env["res.company"].search([("chart_template", "=", "ru")]):
        chart._ru_accounting_extras_apply(company)
    _ru_setup_advances(env)


def _ru_setup_advances(env):
    """Companies already on the Russian chart get advances received on 62.02: the account 76.AB, the
    advance product's income account and the prepayment offset methods' receivable account (a chart loaded
    later gets them from account.chart.template._post_load_data)."""
    chart = env["account.chart.template"]
    for company in env["res.company"].search([("chart_template", "=", "ru")]):
        chart._ru_advances_apply(company)
