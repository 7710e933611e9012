# Manifest of optics_pos_ru54fz: the central receiver of the tills' fiscal documents and heartbeats.
{
    "name": "OpticsERP: POS 54-FZ (fiscal documents and till fleet)",
    "summary": "The POS fiscalizes through its till's KKT; every fiscal document the tills' FN signed, "
    "recorded once; the fleet page of the tills",
    "version": "17.0.1.0.0",
    "category": "Sales/Point of Sale",
    "author": "OpticsERP",
    "website": "https://github.com/opticserp/opticserp",
    "license": "LGPL-3",
    "depends": ["point_of_sale", "mail", "optics_core"],
    "data": [
        "security/groups.xml",
        "security/ir.model.access.csv",
        "security/rules.xml",
        "data/config_parameters.xml",
        "data/cron.xml",
        "data/product.xml",
        "data/digest_template.xml",
        "wizards/till_token_reveal_views.xml",
        "views/fiscal_document_views.xml",
        "views/till_views.xml",
        "views/pos_order_views.xml",
        "views/pos_config_views.xml",
        "views/pos_session_views.xml",
        "views/res_users_views.xml",
        "views/product_views.xml",
        "data/mail_template.xml",
        "views/menus.xml",
    ],
    "assets": {
        "point_of_sale._assets_pos": [
            "optics_pos_ru54fz/static/src/app/*.js",
            "optics_pos_ru54fz/static/src/xml/*.xml",
            "optics_pos_ru54fz/static/src/scss/*.scss",
        ],
        "web.assets_tests": ["optics_pos_ru54fz/static/tests/tours/*.js"],
    },
}
