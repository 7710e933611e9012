"""``connector.import.upload``: the first step of the wizard — choose the profile, upload the file.

Previewing creates the job and reads the whole file; a file that cannot be imported is refused here with
the engine's Russian message and no job is left behind. The next steps (paginated preview with the price
diff, confirm) are the job's own form.
"""

from odoo import fields, models


class ImportUpload(models.TransientModel):
    _name = "connector.import.upload"
    _description = "Upload a supplier price list"

    profile_id = fields.Many2one("connector.import.profile", required=True)
    file = fields.Binary("Price list", required=True)
    file_name = fields.Char()
    currency_rate = fields.Float("Rate to RUB", digits=(12, 6))

    def action_preview(self):
        self.ensure_one()
        job = self.env["connector.import.job"].create(
            {
                "profile_id": self.profile_id.id,
                "file": self.file,
                "file_name": self.file_name,
                "currency_rate": self.currency_rate,
            }
        )
        job.action_preview()
        return {
            "type": "ir.actions.act_window",
            "res_model": "connector.import.job",
            "res_id": job.id,
            "view_mode": "form",
            "target": "current",
        }
