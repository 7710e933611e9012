"""Glasses jobs paid through the tills: advances, pickups and refunds are fiscal documents naming the job.

A till sends the job's reference (FFD tag 1192) with each receipt of a job: an advance receipt (items with
1214 = 1/2/3), a pickup receipt (1214 = 4, paid with the 1215 prepayment offset plus the balance) or the
refund of an advance when a job is cancelled. Advances may be taken at one till and the pickup made at
another, and documents arrive in any order (a till may be offline for days), so the job's figures are sums
over every till's documents, and each pickup's offset is checked again whenever a document of the job
arrives: an offset that differs from the job's advances is flagged on the document and the job.
"""

from odoo import _, fields, models

from .bigint import BigInteger


class FiscalDocumentJob(models.Model):
    _inherit = "optics.fiscal.document"

    job_ref = fields.Char("Glasses job reference", readonly=True, index=True, help="FFD tag 1192")
    job_id = fields.Many2one("optics.manufacturing.order", "Glasses job", readonly=True, index=True)
    advance = BigInteger("Advance, kopecks", readonly=True, default=0, help="Items with 1214 = 1, 2 or 3")
    prepayment = BigInteger("Prepayment offset, kopecks", readonly=True, default=0, help="FFD tag 1215")
    job_problem = fields.Text(
        readonly=True, help="Why this document and its glasses job disagree; empty when they agree"
    )

    def _record(self, till, values):
        doc = super()._record(till, values)
        if doc.job_ref:
            doc._optics_link_job()
        return doc

    def _optics_is_pickup(self):
        """A sale of the job that is not an advance: the receipt that hands the glasses over."""
        self.ensure_one()
        return self.kind == "sale" and not self.advance

    def _optics_link_job(self):
        job = self.env["optics.manufacturing.order"].sudo().search([("name", "=", self.job_ref)], limit=1)
        if not job:
            self.job_problem = _("no glasses job %s in Odoo", self.job_ref)
            return
        self.job_id = job
        job._optics_fiscal_document(self)
