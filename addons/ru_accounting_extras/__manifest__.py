# Manifest of ru_accounting_extras: Russian accounting for the chain on OCA's l10n_ru chart — a cash account
# per store, cash transfers through 57.01, card takings through 57.03, job advances on 62.02, cash orders
# and the cash book (KO-1, KO-2, KO-4), gross profit by store.
{
    "name": "OpticsERP: Russian accounting extras",
    "summary": "Cash per store, transfers in transit, acquiring, advances received, cash orders and cash "
    "book, gross profit by store — on the OCA Russian chart with its account types corrected",
    "version": "17.0.1.0.0",
    "category": "Accounting/Localizations",
    "author": "OpticsERP",
    "website": "https://github.com/opticserp/opticserp",
    "license": "LGPL-3",
    "depends": [
        # OCA's Russian chart (PyPI odoo-addon-l10n_ru, pinned in addons/oca-requirements.txt).
        "l10n_ru",
        # OCA's xlsx report engine (odoo-addon-report_xlsx): the gross-profit export.
        "report_xlsx",
        # Perpetual valuation: the cost of goods sold of the gross-profit report.
        "stock_account",
        "sale_stock",
        "point_of_sale",
        # Stores (warehouses per user), glasses jobs, fiscal documents and Z reports from the tills.
        "optics_pos_ru54fz",
    ],
    "data": [
        "security/groups.xml",
        "security/ir.model.access.csv",
        "security/rules.xml",
        "views/menus.xml",
        "data/cash_transfer_sequence.xml",
        "views/cash_transfer_views.xml",
        "views/stock_warehouse_views.xml",
        "data/cash_order_sequence.xml",
        "report/cash_order_reports.xml",
        "report/cash_book_report.xml",
        "views/cash_order_views.xml",
        "wizards/cash_book_wizard_views.xml",
        "views/cash_order_settings_views.xml",
        "views/pos_payment_method_views.xml",
        "wizards/acquiring_clearing_views.xml",
        "report/gross_profit_reports.xml",
        "wizards/gross_profit_wizard_views.xml",
        "views/gross_profit_views.xml",
    ],
    "assets": {
        # The cash-limit warning in the POS closing popup.
        "point_of_sale._assets_pos": [
            "ru_accounting_extras/static/src/app/*.js",
            "ru_accounting_extras/static/src/app/*.xml",
        ],
        "web.assets_tests": ["ru_accounting_extras/static/tests/tours/*.js"],
    },
    "post_init_hook": "post_init_hook",
}
