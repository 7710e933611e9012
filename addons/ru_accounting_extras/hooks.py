# Install hook of ru_accounting_extras: companies already on the Russian chart get its corrections.
def post_init_hook(env):
    chart = env["account.chart.template"]
    for company in env["res.company"].search([("chart_template", "=", "ru")]):
        chart._ru_accounting_extras_apply(company)
