# Manifest of optics_core: prescriptions (health data) with recalls, lenses with a Sph x Cyl stock matrix,
# glasses jobs from prescription to pickup.
{
    "name": "OpticsERP: optics core (prescriptions, lenses)",
    "summary": "Spectacle and contact-lens prescriptions as opticians write them, protected as health data; "
    "lenses with stock by Sph x Cyl; glasses jobs with advances, lab tracking, labels and recalls",
    "version": "17.0.1.0.0",
    "category": "Sales/Point of Sale",
    "author": "OpticsERP",
    "website": "https://github.com/opticserp/opticserp",
    "license": "LGPL-3",
    "depends": ["stock", "account", "mail", "sms"],
    "data": [
        "security/groups.xml",
        "security/ir.model.access.csv",
        "security/rules.xml",
        "data/sequence.xml",
        "data/product_data.xml",
        "data/lens_coating_data.xml",
        "data/recall_data.xml",
        "data/job_message_templates.xml",
        "report/job_reports.xml",
        "wizards/lens_grid_wizard_views.xml",
        "views/prescription_views.xml",
        "views/prescription_access_views.xml",
        "views/res_partner_views.xml",
        "views/res_users_views.xml",
        "views/manufacturing_order_views.xml",
        "views/lens_views.xml",
        "views/product_views.xml",
        "views/menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "optics_core/static/src/fields/*",
            "optics_core/static/src/lens_matrix/*",
        ],
    },
}
