"""``optics.manufacturing.order`` paid through the tills and handled at the POS.

Payments: advances, pickups and refunds are fiscal documents naming the job (``job_advance.py``); the
job's figures are sums over every till's documents, and each pickup's 1215 offset is checked again
whenever a document of the job arrives (documents come in any order: a till may be offline for days).

POS: create a job from the cart (Odoo must answer), find one for pickup; the POS turns the cart into the
job's lines and takes the advance as one line per VAT code of the advance (the calculated rate,
``_optics_advance_vat_shares``); at pickup it rings up the job's lines and pays with the prepayment
offset plus the balance. The tills' documents, not these calls, record the money.
"""

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

#: Prescription fields the POS may send for a new spectacle prescription (the optician's short form).
POS_RX_FIELDS = ("prescriber", "od_sph", "od_cyl", "od_axis", "os_sph", "os_cyl", "os_axis", "pd")
#: What the POS keeps of a job (also in its offline data).
JOB_FIELDS = ("name", "state", "partner_id", "amount_total", "amount_advance", "amount_balance")


class ManufacturingOrder(models.Model):
    _inherit = "optics.manufacturing.order"

    fiscal_document_ids = fields.One2many(
        "optics.fiscal.document", "job_id", "Fiscal documents", readonly=True
    )
    offset_problem = fields.Boolean(
        "Offset to check",
        compute="_compute_offset_problem",
        store=True,
        help="A pickup receipt's prepayment offset differs from the advances the tills sent.",
    )

    @api.depends("fiscal_document_ids.advance", "fiscal_document_ids.kind")
    def _compute_amount_advance(self):
        for job in self:
            job.amount_advance = job._optics_advance_kopecks() / 100

    @api.depends("fiscal_document_ids.total", "fiscal_document_ids.prepayment", "fiscal_document_ids.advance")
    def _compute_amount_settled(self):
        for job in self:
            pickups = job.fiscal_document_ids.filtered(lambda d: d._optics_is_pickup())
            refunds = job.fiscal_document_ids.filtered(lambda d: d.kind == "refund" and not d.advance)
            kopecks = sum(d.total - d.prepayment for d in pickups) - sum(d.total for d in refunds)
            job.amount_settled = kopecks / 100

    @api.depends("fiscal_document_ids.job_problem")
    def _compute_offset_problem(self):
        for job in self:
            job.offset_problem = any(job.fiscal_document_ids.mapped("job_problem"))

    def _optics_advance_kopecks(self):
        """Advances taken at every till, less the advances refunded."""
        self.ensure_one()
        docs = self.fiscal_document_ids
        taken = sum(d.advance for d in docs if d.kind == "sale")
        return taken - sum(d.advance for d in docs if d.kind == "refund")

    def _optics_fiscal_document(self, doc):
        """A document of this job arrived: deliver on its pickup receipt, check every pickup's offset."""
        self.ensure_one()
        if doc._optics_is_pickup() and self.state not in ("delivered", "cancelled"):
            was = self.state
            self.with_context(optics_fiscal_pickup=True)._optics_mark_delivered()
            if was != "ready":
                self.message_post(
                    body=_(
                        "Delivered by pickup receipt %(doc)s while the job was not Ready.",
                        doc=doc.display_name,
                    )
                )
        elif doc._optics_is_pickup() and self.state == "cancelled":
            doc.job_problem = _("a pickup receipt for the cancelled job %s", self.name)
        self._optics_check_offsets()

    def _optics_check_offsets(self):
        """Flag each pickup receipt whose 1215 offset is not the job's advances (the FN's figure stands)."""
        for job in self:
            advances = job._optics_advance_kopecks()
            for doc in job.fiscal_document_ids.filtered(lambda d: d._optics_is_pickup()):
                if job.state == "cancelled":
                    continue
                problem = False
                if doc.prepayment != advances:
                    problem = _(
                        "the pickup receipt offsets %(offset).2f, the job's advances are %(advances).2f",
                        offset=doc.prepayment / 100,
                        advances=advances / 100,
                    )
                if problem != (doc.job_problem or False):
                    doc.job_problem = problem
                    if problem:
                        job.message_post(body=_("Check %(doc)s: %(why)s", doc=doc.display_name, why=problem))

    # -- the POS --------------------------------------------------------------------------------------

    def _optics_pos_data(self):
        """The job as the POS uses it: lines to ring up, amounts, advance split by VAT code."""
        data = []
        for job in self:
            values = job.read(list(JOB_FIELDS))[0]
            values["partner_id"] = job.partner_id.id
            values["lines"] = [
                {"product_id": line.product_id.id, "quantity": line.quantity, "price_unit": line.price_unit}
                for line in job.line_ids
            ]
            values["advance_vat_shares"] = job._optics_advance_vat_shares() if job.line_ids else {}
            data.append(values)
        return data

    @api.model
    def optics_pos_prescriptions(self, partner_id):
        """The customer's spectacle prescriptions the cashier may pick (newest first)."""
        prescriptions = self.env["optics.prescription"].search(
            [("partner_id", "=", partner_id), ("kind", "=", "spectacles")], order="date desc, id desc"
        )
        return [
            {"id": rx.id, "name": rx.name, "summary": rx.summary, "expired": rx.is_expired, "date": rx.date}
            for rx in prescriptions
        ]

    @api.model
    def optics_pos_lenses(self):
        return [{"id": lens.id, "name": lens.name} for lens in self.env["optics.lens"].search([])]

    @api.model
    def optics_pos_create_job(self, config_id, values):
        """Create and confirm a job from the POS cart; its POS data (``_optics_pos_data``).

        ``values``: partner_id, lens_id, lines [{product_id, quantity, price_unit}], promised_date
        (optional), note (optional), and either prescription_id or prescription {POS_RX_FIELDS}.
        """
        config = self.env["pos.config"].browse(config_id).exists()
        if not config:
            raise UserError(_("POS %s does not exist.", config_id))
        store = config.picking_type_id.warehouse_id or config.warehouse_id
        partner = self.env["res.partner"].browse(values.get("partner_id")).exists()
        if not partner:
            raise ValidationError(_("Choose the customer before creating a glasses job."))
        lines = values.get("lines") or []
        if not lines:
            raise ValidationError(_("Add what the customer buys (lenses, frame, work) to the order first."))
        rx_id = values.get("prescription_id")
        if not rx_id and values.get("prescription"):
            new_rx = {
                key: values["prescription"][key] for key in POS_RX_FIELDS if key in values["prescription"]
            }
            rx_id = (
                self.env["optics.prescription"]
                .create({**new_rx, "partner_id": partner.id, "store_id": store.id, "kind": "spectacles"})
                .id
            )
        job = self.create(
            {
                "partner_id": partner.id,
                "store_id": store.id,
                "prescription_id": rx_id or False,
                "lens_id": values.get("lens_id") or False,
                "promised_date": values.get("promised_date") or False,
                "note": values.get("note") or False,
                "line_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": line["product_id"],
                            "quantity": line["quantity"],
                            "price_unit": line["price_unit"],
                        },
                    )
                    for line in lines
                ],
            }
        )
        job.action_confirm()
        return job._optics_pos_data()[0]

    @api.model
    def optics_pos_find_job(self, reference):
        """A job for pickup by its reference (the label's barcode); an error the cashier can act on."""
        job = self.search([("name", "=", (reference or "").strip())], limit=1)
        if not job:
            raise UserError(_("No glasses job %s (or it belongs to another store).", reference))
        if job.state != "ready":
            labels = dict(self._fields["state"]._description_selection(self.env))
            raise UserError(
                _(
                    "Job %(job)s is %(state)s, not Ready: it cannot be handed over.",
                    job=job.name,
                    state=labels[job.state],
                )
            )
        return job._optics_pos_data()[0]
