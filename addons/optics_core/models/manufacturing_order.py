"""Glasses jobs (optics.manufacturing.order): a made-to-order pair of glasses from prescription to pickup.

Draft → Confirmed → In production → Ready → Delivered, only in that order (or Cancelled before delivery);
each step has its guards. The job holds what the customer owes (its lines) and what they paid in advance;
the advances themselves are fiscal documents the tills send (optics_pos_ru54fz sums them per job), so this
module only defines the amounts and the hook that computes them.
"""

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

#: The only state changes allowed; everything else is refused (a job never skips or goes back a step).
TRANSITIONS = {
    "draft": {"confirmed", "cancelled"},
    "confirmed": {"production", "cancelled"},
    "production": {"ready", "cancelled"},
    "ready": {"delivered", "cancelled"},
    "delivered": set(),
    "cancelled": set(),
}
#: States in which a promised date can be missed (the lab still has the job).
AT_LAB = ("confirmed", "production")
#: FFD 1199 code of an advance for goods sold at a rate: the calculated rate (54-FZ: a prepayment is
#: fiscalized at the rate "included in the price", e.g. 22/122 for goods at 22 %); 0 % and exempt stay.
ADVANCE_VAT_CODES = {"1": "3", "2": "4", "7": "9", "8": "10", "11": "12"}
#: Warranty on the lab's work when the store sets none: 6 months, the usual term for made-to-order glasses
#: in Russian optics (the Consumer Protection Law lets the seller set it; 6 months is the market norm).
DEFAULT_WARRANTY_MONTHS = 6


class OpticsManufacturingOrder(models.Model):
    _name = "optics.manufacturing.order"
    _description = "Glasses job"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char("Reference", required=True, readonly=True, copy=False, default="/", index=True)
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("confirmed", "Confirmed"),
            ("production", "In production"),
            ("ready", "Ready"),
            ("delivered", "Delivered"),
            ("cancelled", "Cancelled"),
        ],
        required=True,
        default="draft",
        readonly=True,
        copy=False,
        tracking=True,
        index=True,
    )
    partner_id = fields.Many2one(
        "res.partner", "Customer", required=True, index=True, ondelete="restrict", tracking=True
    )
    user_id = fields.Many2one("res.users", "Optician", default=lambda self: self.env.user, tracking=True)
    store_id = fields.Many2one(
        "stock.warehouse",
        required=True,
        index=True,
        default=lambda self: self.env.user._optics_default_store(),
        help="The store where the job was taken.",
    )
    pickup_store_id = fields.Many2one(
        "stock.warehouse",
        "Pickup store",
        compute="_compute_pickup_store",
        store=True,
        readonly=False,
        index=True,
        tracking=True,
        help="Where the customer collects the glasses; its staff see the job too.",
    )
    company_id = fields.Many2one(related="store_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    prescription_id = fields.Many2one(
        "optics.prescription",
        index=True,
        ondelete="restrict",
        tracking=True,
        domain="[('partner_id', '=', partner_id), ('kind', '=', 'spectacles')]",
    )
    lens_id = fields.Many2one("optics.lens", "Lens design", ondelete="restrict", tracking=True)
    frame_note = fields.Char(
        "Frame", help="The frame the lenses go into (the store's or the customer's own)."
    )
    lab_id = fields.Many2one("res.partner", index=True, tracking=True)
    promised_date = fields.Date(tracking=True, help="The date promised to the customer.")
    is_overdue = fields.Boolean(
        "Overdue",
        compute="_compute_is_overdue",
        search="_search_is_overdue",
        help="Still at the lab after the promised date.",
    )
    line_ids = fields.One2many("optics.manufacturing.order.line", "order_id", "Lines", copy=True)
    amount_total = fields.Monetary("Total", compute="_compute_amount_total", store=True)
    amount_advance = fields.Monetary(
        "Advances",
        compute="_compute_amount_advance",
        store=True,
        help="Advances fiscalized for this job, less those refunded, summed over every till.",
    )
    amount_settled = fields.Monetary(
        "Paid at pickup",
        compute="_compute_amount_settled",
        store=True,
        help="What the pickup receipts took beyond the advances (cash, card).",
    )
    amount_balance = fields.Monetary(
        "Balance due",
        compute="_compute_amount_balance",
        store=True,
        help="Left to pay; negative on a cancelled job: the advance still to refund.",
    )
    remake_of_id = fields.Many2one("optics.manufacturing.order", "Remake of", index=True, readonly=True)
    remake_ids = fields.One2many("optics.manufacturing.order", "remake_of_id", "Remakes")
    remake_reason = fields.Text(readonly=True)
    warranty_months = fields.Integer("Warranty, months", default=DEFAULT_WARRANTY_MONTHS)
    date_confirmed = fields.Datetime("Confirmed on", readonly=True, copy=False)
    date_ready = fields.Datetime("Ready on", readonly=True, copy=False)
    date_delivered = fields.Datetime("Delivered on", readonly=True, copy=False)
    note = fields.Text()

    _sql_constraints = [
        ("name_unique", "unique(name)", "A job reference is unique."),
        ("warranty_positive", "check(warranty_months >= 0)", "The warranty cannot be negative."),
    ]

    @api.depends("store_id")
    def _compute_pickup_store(self):
        for job in self:
            if not job.pickup_store_id:
                job.pickup_store_id = job.store_id

    @api.depends("promised_date", "state")
    def _compute_is_overdue(self):
        today = fields.Date.context_today(self)
        for job in self:
            job.is_overdue = bool(job.state in AT_LAB and job.promised_date and job.promised_date < today)

    def _search_is_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Unsupported search on Overdue."))
        domain = [("state", "in", AT_LAB), ("promised_date", "<", fields.Date.context_today(self))]
        return domain if (operator == "=") == value else ["!", "&", *domain]

    @api.depends("line_ids.price_subtotal")
    def _compute_amount_total(self):
        for job in self:
            job.amount_total = sum(job.line_ids.mapped("price_subtotal"))

    def _compute_amount_advance(self):
        """Advances paid for the job; the POS module sums the tills' fiscal documents here."""
        for job in self:
            job.amount_advance = 0.0

    def _compute_amount_settled(self):
        """Paid at pickup beyond the advances; the POS module sums the pickup receipts here."""
        for job in self:
            job.amount_settled = 0.0

    @api.depends("amount_total", "amount_advance", "amount_settled", "state")
    def _compute_amount_balance(self):
        for job in self:
            owed = 0.0 if job.state == "cancelled" else job.amount_total
            balance = owed - job.amount_advance - job.amount_settled
            job.amount_balance = job.currency_id.round(balance) if job.currency_id else balance

    # -- life cycle -------------------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("optics.manufacturing.order") or "/"
        return super().create(vals_list)

    def write(self, vals):
        # A pickup receipt the FN signed is a fact: the POS module records it whatever step Odoo shows
        # (only as superuser, so no client can pass the flag).
        forced = self.env.su and self.env.context.get("optics_fiscal_pickup")
        if "state" in vals and not forced:
            labels = dict(self._fields["state"]._description_selection(self.env))
            for job in self:
                if vals["state"] != job.state and vals["state"] not in TRANSITIONS[job.state]:
                    raise UserError(
                        _(
                            "Job %(job)s: cannot go from %(old)s to %(new)s.",
                            job=job.name,
                            old=labels[job.state],
                            new=labels[vals["state"]],
                        )
                    )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_drafts(self):
        if any(job.state != "draft" for job in self):
            raise UserError(_("Only draft jobs can be deleted; cancel the others."))

    def _optics_check_confirmable(self):
        """Raise a Russian ValidationError saying why the job cannot go to the lab yet."""
        self.ensure_one()
        rx = self.prescription_id
        if not rx:
            raise ValidationError(_("Job %s: attach the customer's prescription.", self.name))
        if rx.partner_id != self.partner_id:
            raise ValidationError(_("Job %s: the prescription belongs to another customer.", self.name))
        if rx.kind != "spectacles":
            raise ValidationError(_("Job %s: glasses need a spectacle prescription.", self.name))
        if rx.is_expired:
            raise ValidationError(
                _(
                    "Job %(job)s: prescription %(rx)s expired on %(date)s.",
                    job=self.name,
                    rx=rx.name,
                    date=rx.expiry_date,
                )
            )
        if not self.lens_id:
            raise ValidationError(_("Job %s: choose the lens design.", self.name))
        self.lens_id._optics_check_prescription(rx)
        if not self.line_ids:
            raise ValidationError(_("Job %s: add what the customer buys (lenses, frame, work).", self.name))

    def action_confirm(self):
        for job in self:
            job._optics_check_confirmable()
        self.write({"state": "confirmed", "date_confirmed": fields.Datetime.now()})
        return True

    def action_start_production(self):
        for job in self:
            if not job.lab_id or not job.promised_date:
                raise ValidationError(_("Job %s: set the lab and the promised date first.", job.name))
        self.write({"state": "production"})
        return True

    def action_ready(self):
        self.write({"state": "ready", "date_ready": fields.Datetime.now()})
        for job in self:
            job._optics_notify_ready()
        return True

    def action_deliver(self):
        """Hand the glasses over in the back office (the POS pickup delivers through the final receipt)."""
        for job in self:
            if job.currency_id.compare_amounts(job.amount_balance, 0.0) > 0:
                raise UserError(
                    _(
                        "Job %(job)s: %(due)s is still due; take the balance at the till.",
                        job=job.name,
                        due=job.amount_balance,
                    )
                )
        self._optics_mark_delivered()
        return True

    def _optics_mark_delivered(self):
        self.write({"state": "delivered", "date_delivered": fields.Datetime.now()})

    def action_cancel(self):
        self.write({"state": "cancelled"})
        for job in self.filtered(lambda j: j.currency_id.compare_amounts(j.amount_advance, 0.0) > 0):
            job.message_post(
                body=_(
                    "Job cancelled with %(sum)s paid in advance: refund it at a till (refund receipt).",
                    sum=job.amount_advance,
                )
            )
        return True

    def action_remake(self, reason):
        """A new draft job redoing this one (a lab fault, a customer's complaint), linked to it."""
        self.ensure_one()
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError(_("A remake needs a reason."))
        if self.state not in ("production", "ready", "delivered"):
            raise UserError(_("Job %s: only a job made or in production can be remade.", self.name))
        remake = self.copy(
            {
                "remake_of_id": self.id,
                "remake_reason": reason,
                # Redone at the lab's or the store's cost: the customer has paid for the job once.
                "line_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": line.product_id.id,
                            "name": line.name,
                            "quantity": line.quantity,
                            "price_unit": 0.0,
                        },
                    )
                    for line in self.line_ids
                ],
            }
        )
        self.message_post(body=_("Remake %(job)s: %(why)s", job=remake.name, why=reason))
        remake.message_post(body=_("Remake of %(job)s: %(why)s", job=self.name, why=reason))
        return remake

    def _optics_advance_vat_shares(self):
        """The job's total per FFD VAT code of its advance: ``{code: amount}`` (codes as the tills print
        them, the calculated rates). A line whose product has no single VAT code cannot be prepaid."""
        self.ensure_one()
        shares = {}
        for line in self.line_ids:
            code = line.product_id.optics_ffd_vat_code
            if not code:
                raise UserError(
                    _(
                        "“%s” has no FFD VAT code (1199): a manager sets it on the product's tax.",
                        line.product_id.display_name,
                    )
                )
            code = ADVANCE_VAT_CODES.get(code, code)
            shares[code] = shares.get(code, 0.0) + line.price_subtotal
        return shares

    # -- messages ---------------------------------------------------------------------------------------

    def _optics_notify_ready(self):
        """Tell the customer the glasses are ready: e-mail and SMS where they gave one."""
        self.ensure_one()
        partner = self.partner_id
        if partner.email:
            mail = self.env.ref("optics_core.mail_template_job_ready", raise_if_not_found=False)
            if mail:
                self.message_post_with_source(mail, message_type="comment", subtype_xmlid="mail.mt_comment")
        if partner.phone or partner.mobile:
            sms = self.env.ref("optics_core.sms_template_job_ready", raise_if_not_found=False)
            if sms:
                self._message_sms_with_template(template=sms, partner_ids=partner.ids)

    def action_open_remake_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "optics.manufacturing.remake.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_order_id": self.id},
        }


class OpticsManufacturingOrderLine(models.Model):
    _name = "optics.manufacturing.order.line"
    _description = "Glasses job line"
    _order = "order_id, sequence, id"

    order_id = fields.Many2one("optics.manufacturing.order", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    product_id = fields.Many2one("product.product", required=True, ondelete="restrict")
    name = fields.Char("Description", compute="_compute_name", store=True, readonly=False)
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure")
    price_unit = fields.Monetary(
        "Unit price", compute="_compute_price_unit", store=True, readonly=False, precompute=True
    )
    price_subtotal = fields.Monetary("Subtotal", compute="_compute_price_subtotal", store=True)
    currency_id = fields.Many2one(related="order_id.currency_id")
    company_id = fields.Many2one(related="order_id.company_id", store=True)

    _sql_constraints = [
        ("quantity_positive", "check(quantity > 0)", "A line's quantity must be positive."),
        ("price_not_negative", "check(price_unit >= 0)", "A line's price cannot be negative."),
    ]

    @api.depends("product_id")
    def _compute_name(self):
        for line in self:
            if line.product_id and not line.name:
                line.name = line.product_id.display_name

    @api.depends("product_id")
    def _compute_price_unit(self):
        for line in self:
            if line.product_id and not line.price_unit:
                line.price_unit = line.product_id.lst_price

    @api.depends("quantity", "price_unit")
    def _compute_price_subtotal(self):
        for line in self:
            amount = line.quantity * line.price_unit
            line.price_subtotal = line.currency_id.round(amount) if line.currency_id else amount

    def write(self, vals):
        if self.order_id.filtered(lambda j: j.state not in ("draft",)) and set(vals) & {
            "product_id",
            "quantity",
            "price_unit",
        }:
            raise UserError(_("A confirmed job's lines cannot change: cancel it or make a remake."))
        return super().write(vals)
