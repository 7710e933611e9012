"""``pos.config``: the POS fiscalizes through its till's KKT adapter (issue 12).

The POS page runs in the till's own browser and talks to the adapter directly (CORS for Odoo's origin is
opened on the adapter, ``[http] cors_origins``), so a sale prints even with central Odoo unreachable.
"""

import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

#: The adapter's default listen address (appliance/kkt_adapter/config.py, ``[http] listen``): the browser
#: of the till itself.
DEFAULT_ADAPTER_URL = "http://127.0.0.1:8765"
URL = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(:\d{1,5})?$")


class PosConfig(models.Model):
    _inherit = "pos.config"

    optics_fiscal = fields.Boolean(
        "Fiscalize through the till",
        help="Every sale, refund and cash movement goes through the till's KKT before the order is final.",
    )
    optics_adapter_url = fields.Char(
        "KKT adapter URL",
        default=DEFAULT_ADAPTER_URL,
        help="Where the POS browser reaches the till's KKT adapter; the default is the till's own browser.",
    )
    optics_till_ids = fields.One2many(
        "pos.offline.buffer.status",
        "pos_config_id",
        string="Tills",
        groups="optics_pos_ru54fz.group_fleet_user",
    )
    # Cashiers read it (the POS loads its config) without access to the fleet's till records.
    optics_pos_id = fields.Char(
        "Till ID",
        compute="_compute_optics_pos_id",
        compute_sudo=True,
        help="The till's pos_id the adapter checks on every receipt.",
    )

    @api.depends("optics_till_ids.pos_id")
    def _compute_optics_pos_id(self):
        for config in self:
            config.optics_pos_id = config.optics_till_ids[:1].pos_id or False

    @api.constrains("optics_fiscal", "optics_adapter_url")
    def _check_optics_adapter(self):
        for config in self.filtered("optics_fiscal"):
            url = (config.optics_adapter_url or "").rstrip("/")
            if not URL.match(url):
                raise ValidationError(
                    _(
                        "The KKT adapter URL of %(pos)s must look like http://127.0.0.1:8765 (scheme, host, "
                        "port; no path): %(url)r",
                        pos=config.name,
                        url=config.optics_adapter_url or "",
                    )
                )
            if len(config.sudo().optics_till_ids) != 1:
                raise ValidationError(
                    _(
                        "%(pos)s fiscalizes through a till: link exactly one till to it (now %(n)s) on the "
                        "till's form («Офлайн-буфер»).",
                        pos=config.name,
                        n=len(config.sudo().optics_till_ids),
                    )
                )
