"""``res.config.settings``: the POS settings page shows the till fiscalization of the selected POS."""

from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # Fields named pos_* are written to the selected pos.config by point_of_sale's settings model.
    pos_optics_fiscal = fields.Boolean(related="pos_config_id.optics_fiscal", readonly=False)
    pos_optics_adapter_url = fields.Char(related="pos_config_id.optics_adapter_url", readonly=False)
    pos_optics_pos_id = fields.Char(related="pos_config_id.optics_pos_id")
