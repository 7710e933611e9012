# Manifest of connector_b: supplier price lists (xlsx, CSV) through profiles into products and prices.
{
    "name": "OpticsERP: supplier price import",
    "summary": "Supplier price lists through mapping profiles: preview with validation and a price diff, "
    "held changes for a manager, background jobs that resume after a crash, set-based upsert",
    "version": "17.0.1.0.0",
    "category": "Inventory/Purchase",
    "author": "OpticsERP",
    "website": "https://github.com/opticserp/opticserp",
    "license": "LGPL-3",
    "depends": ["product", "uom", "mail", "optics_core", "optics_pos_ru54fz"],
    "external_dependencies": {"python": ["openpyxl"]},
    "data": [
        "security/groups.xml",
        "security/ir.model.access.csv",
        "security/rules.xml",
        "data/uom.xml",
        "data/sequence.xml",
        "data/config_parameters.xml",
        "data/cron.xml",
        "data/profiles.xml",
        "views/profile_views.xml",
        "views/job_views.xml",
        "views/log_views.xml",
        "views/till_views.xml",
        "wizards/upload_views.xml",
        "views/menus.xml",
    ],
    "assets": {
        "web.assets_tests": ["connector_b/static/tests/tours/*.js"],
    },
}
