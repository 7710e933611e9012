"""``connector.import.profile``: how one supplier's price list is read and applied.

The reading rules are the engine's profile dict (``config``, checked by ``engine.Profile.from_dict`` — any
error is a Russian ``ValidationError``); what the engine does not know lives in fields: the supplier whose
vendor lines are updated, the category of new products, the pricelist that receives retail prices. The
three sample suppliers' profiles are created at install from ``engine/profiles_builtin.py``.
"""

import json

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..engine import BUILTIN_PROFILES, LENS_GRID, PRODUCTS, Profile, ProfileError

#: The builtin profiles' suppliers (data/profiles.xml).
BUILTIN_SUPPLIERS = {
    "linzmaster_price": "connector_b.partner_linzmaster",
    "linzmaster_stock_156": "connector_b.partner_linzmaster",
    "optima_frames": "connector_b.partner_optima",
    "aquaview_contacts": "connector_b.partner_aquaview",
}


class ImportProfile(models.Model):
    _name = "connector.import.profile"
    _description = "Supplier price list profile"
    _inherit = ["mail.thread"]
    _order = "name"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(required=True, help="Short technical name, unique per company.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    supplier_id = fields.Many2one(
        "res.partner", required=True, tracking=True, domain=[("is_company", "=", True)]
    )
    config = fields.Json(
        "Reading rules",
        required=True,
        help="The engine's profile: sheet, header, columns, transforms, upsert key, hold threshold, "
        "retail rule (see docs/supplier-import.md).",
    )
    config_text = fields.Text(
        "Reading rules (JSON)", compute="_compute_config_text", inverse="_inverse_config_text"
    )
    kind = fields.Selection(
        [(PRODUCTS, "Products"), (LENS_GRID, "Lens stock grid (Sph x Cyl)")],
        compute="_compute_from_config",
        store=True,
    )
    upsert_key = fields.Selection(
        [("supplier_sku", "Supplier SKU"), ("barcode", "Barcode")],
        compute="_compute_from_config",
        store=True,
    )
    hold_percent = fields.Float("Hold changes over, %", compute="_compute_from_config", store=True)
    categ_id = fields.Many2one(
        "product.category",
        "Category of new products",
        required=True,
        default=lambda self: self.env.ref("product.product_category_all", raise_if_not_found=False),
        help="Used when the list's category column is empty or names no existing category.",
    )
    pricelist_id = fields.Many2one(
        "product.pricelist",
        "Retail pricelist",
        help="When set, retail prices go to fixed-price items of this pricelist (and only the stores whose "
        "points of sale use it are affected); otherwise to the products' sales price.",
    )
    lens_template_id = fields.Many2one(
        "product.template",
        "Lens of the grid",
        help="Lens stock grids: the lens whose Sph x Cyl variants (optics_core's grid) the cells update.",
    )
    job_ids = fields.One2many("connector.import.job", "profile_id")
    job_count = fields.Integer(compute="_compute_job_count")

    _sql_constraints = [
        ("code_company_unique", "UNIQUE(code, company_id)", "A profile with this code already exists."),
    ]

    @api.depends("config")
    def _compute_config_text(self):
        for profile in self:
            profile.config_text = json.dumps(profile.config or {}, ensure_ascii=False, indent=2)

    def _inverse_config_text(self):
        for profile in self:
            try:
                value = json.loads(profile.config_text or "{}")
            except ValueError as err:
                raise ValidationError(_("The reading rules are not valid JSON: %s", err)) from err
            if not isinstance(value, dict):
                raise ValidationError(_("The reading rules must be a JSON object."))
            profile.config = value

    @api.depends("config")
    def _compute_from_config(self):
        for profile in self:
            config = profile.config if isinstance(profile.config, dict) else {}
            profile.kind = config.get("kind") or PRODUCTS
            profile.upsert_key = config.get("upsert_key") or "supplier_sku"
            try:
                profile.hold_percent = float(config.get("hold_percent") or 20)
            except (TypeError, ValueError):
                profile.hold_percent = 0.0

    def _compute_job_count(self):
        counts = dict(
            self.env["connector.import.job"]._read_group(
                [("profile_id", "in", self.ids)], ["profile_id"], ["__count"]
            )
        )
        for profile in self:
            profile.job_count = counts.get(profile, 0)

    @api.constrains("config", "code", "name")
    def _check_config(self):
        for profile in self:
            profile._engine_profile()

    def _engine_profile(self) -> Profile:
        """The engine's ``Profile`` of this record (the record's code and name win over the dict's)."""
        self.ensure_one()
        if not isinstance(self.config, dict):
            raise ValidationError(_("Profile «%s»: the reading rules must be a JSON object.", self.name))
        try:
            return Profile.from_dict({**self.config, "code": self.code, "name": self.name})
        except ProfileError as err:
            raise ValidationError(str(err)) from err

    @api.model
    def _load_builtin_profiles(self):
        """Create the sample suppliers' profiles once (data/profiles.xml); existing codes are left alone."""
        for code, config in BUILTIN_PROFILES.items():
            if self.with_context(active_test=False).search_count([("code", "=", code)]):
                continue
            self.create(
                {
                    "name": config["name"],
                    "code": code,
                    "supplier_id": self.env.ref(BUILTIN_SUPPLIERS[code]).id,
                    "config": {k: v for k, v in config.items() if k not in ("code", "name")},
                }
            )

    def action_view_jobs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("connector_b.action_import_job")
        action["domain"] = [("profile_id", "=", self.id)]
        action["context"] = {"default_profile_id": self.id}
        return action
