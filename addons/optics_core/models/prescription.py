"""Spectacle and contact-lens prescriptions (optics.prescription): per eye as opticians write them.

The rules (grids, Axis with Cyl, prism pairs, transposition, notation) live in plain Python in
``tools/rx.py``; this model stores, validates through it and logs who opened or changed a prescription.
"""

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools import rx

#: Validity of a prescription when the prescriber wrote none: 12 months, the usual recheck interval for
#: adults' spectacle and contact-lens prescriptions in Russian practice.
DEFAULT_VALIDITY_MONTHS = 12

PRISM_BASE_SELECTION = [("up", "Up"), ("down", "Down"), ("in", "In"), ("out", "Out")]

#: Fields per eye (prefix od_ / os_) holding vision data.
EYE_FIELDS = ("sph", "cyl", "axis", "add", "prism", "prism_base", "pd", "height", "bc", "dia")
#: Every field whose reading or change is logged (health data under 152-FZ).
HEALTH_FIELDS = frozenset(
    [f"{eye}_{name}" for eye in ("od", "os") for name in EYE_FIELDS]
    + ["pd", "od_display", "os_display", "summary", "note"]
)


def _power(string):
    return fields.Float(string, digits=(4, 2))


class OpticsPrescription(models.Model):
    _name = "optics.prescription"
    _description = "Prescription"
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char("Reference", required=True, readonly=True, copy=False, default="/")
    partner_id = fields.Many2one("res.partner", "Patient", required=True, index=True, ondelete="restrict")
    store_id = fields.Many2one(
        "stock.warehouse",
        required=True,
        index=True,
        default=lambda self: self.env.user._optics_default_store(),
        help="Only the opticians and managers of this store can read the prescription.",
    )
    company_id = fields.Many2one(related="store_id.company_id", store=True, index=True)
    prescriber = fields.Char(required=True, help="Ophthalmologist or optometrist who wrote the prescription.")
    date = fields.Date(required=True, default=fields.Date.context_today)
    expiry_date = fields.Date(
        "Valid until",
        compute="_compute_expiry_date",
        store=True,
        readonly=False,
        help=f"{DEFAULT_VALIDITY_MONTHS} months after the date unless the prescriber wrote otherwise.",
    )
    is_expired = fields.Boolean("Expired", compute="_compute_is_expired")
    kind = fields.Selection(
        [("spectacles", "Spectacles"), ("contact", "Contact lenses")], required=True, default="spectacles"
    )
    purpose = fields.Selection(
        [("distance", "Distance"), ("near", "Near"), ("intermediate", "Intermediate")],
        required=True,
        default="distance",
    )
    # Right eye (oculus dexter).
    od_sph = _power("OD Sph")
    od_cyl = _power("OD Cyl")
    od_axis = fields.Integer("OD Axis")
    od_add = _power("OD Add")
    od_prism = _power("OD Prism")
    od_prism_base = fields.Selection(PRISM_BASE_SELECTION, "OD Prism base")
    od_pd = fields.Float("OD PD", digits=(4, 1), help="Monocular pupillary distance, mm.")
    od_height = fields.Float("OD Fitting height", digits=(4, 1), help="For progressive lenses, mm.")
    od_bc = fields.Float("OD Base curve", digits=(4, 2), help="Contact lens base curve (BC), mm.")
    od_dia = fields.Float("OD Diameter", digits=(4, 1), help="Contact lens diameter (DIA), mm.")
    # Left eye (oculus sinister).
    os_sph = _power("OS Sph")
    os_cyl = _power("OS Cyl")
    os_axis = fields.Integer("OS Axis")
    os_add = _power("OS Add")
    os_prism = _power("OS Prism")
    os_prism_base = fields.Selection(PRISM_BASE_SELECTION, "OS Prism base")
    os_pd = fields.Float("OS PD", digits=(4, 1), help="Monocular pupillary distance, mm.")
    os_height = fields.Float("OS Fitting height", digits=(4, 1), help="For progressive lenses, mm.")
    os_bc = fields.Float("OS Base curve", digits=(4, 2), help="Contact lens base curve (BC), mm.")
    os_dia = fields.Float("OS Diameter", digits=(4, 1), help="Contact lens diameter (DIA), mm.")
    pd = fields.Float("PD", digits=(4, 1), help="Binocular pupillary distance, mm (or monocular per eye).")
    note = fields.Text()
    od_display = fields.Char("OD", compute="_compute_display")
    os_display = fields.Char("OS", compute="_compute_display")
    summary = fields.Char(compute="_compute_display")
    access_ids = fields.One2many("optics.prescription.access", "prescription_id", string="Access log")

    @api.depends("date")
    def _compute_expiry_date(self):
        for rec in self:
            if rec.date and not rec.expiry_date:
                rec.expiry_date = rec.date + relativedelta(months=DEFAULT_VALIDITY_MONTHS)

    @api.depends("expiry_date")
    def _compute_is_expired(self):
        today = fields.Date.context_today(self)
        for rec in self:
            rec.is_expired = bool(rec.expiry_date and rec.expiry_date < today)

    @api.depends(
        *[f"{eye}_{name}" for eye in ("od", "os") for name in ("sph", "cyl", "axis", "add", "prism")]
    )
    def _compute_display(self):
        for rec in self:
            texts = {}
            for eye in ("od", "os"):
                try:
                    texts[eye] = rx.format_eye(rec._optics_eye(eye))
                except rx.RxError:
                    texts[eye] = ""
            rec.od_display, rec.os_display = texts["od"], texts["os"]
            rec.summary = f"OD {texts['od']}; OS {texts['os']}"

    # -- validation -------------------------------------------------------------------------------------

    def _optics_eye(self, eye):
        """One eye's values through the plain-Python rules (raises ``rx.RxError`` in Russian)."""
        self.ensure_one()
        return rx.validate_eye(
            eye.upper(),
            self[f"{eye}_sph"],
            self[f"{eye}_cyl"] or None,
            self[f"{eye}_axis"] or None,
            self[f"{eye}_add"] or None,
            self[f"{eye}_prism"] or None,
            self[f"{eye}_prism_base"] or None,
        )

    def _optics_check_measurements(self):
        """PD, fitting heights and contact-lens parameters, by kind."""
        self.ensure_one()
        eyes = ("OD", "OS")
        if self.kind == "contact":
            for eye in eyes:
                low = eye.lower()
                if not self[f"{low}_bc"] or not self[f"{low}_dia"]:
                    raise rx.RxError(
                        f"{low}_bc",
                        _("Contact lenses: %s needs a base curve (BC) and a diameter (DIA).", eye),
                    )
                rx.CL_BASE_CURVE.check(self[f"{low}_bc"], eye)
                rx.CL_DIAMETER.check(self[f"{low}_dia"], eye)
                if self[f"{low}_prism"]:
                    raise rx.RxError(f"{low}_prism", _("A prism is not prescribed for contact lenses."))
            return
        for eye in eyes:
            low = eye.lower()
            if self[f"{low}_height"]:
                rx.FITTING_HEIGHT.check(self[f"{low}_height"], eye)
        if self.pd:
            rx.PD_BINO.check(self.pd)
        if bool(self.od_pd) != bool(self.os_pd):
            raise rx.RxError("od_pd", _("A monocular PD is given for both eyes or for neither."))
        if self.od_pd:
            rx.PD_MONO.check(self.od_pd, "OD")
            rx.PD_MONO.check(self.os_pd, "OS")
            if self.pd and abs(self.od_pd + self.os_pd - self.pd) > 0.05:
                raise rx.RxError(
                    "pd", _("The binocular PD differs from the sum of the monocular ones (OD + OS).")
                )

    @api.constrains(*HEALTH_FIELDS - {"od_display", "os_display", "summary", "note"}, "kind")
    def _check_rx(self):
        for rec in self:
            try:
                rec._optics_eye("od")
                rec._optics_eye("os")
                rec._optics_check_measurements()
            except rx.RxError as err:
                raise ValidationError(err.message) from err

    @api.constrains("date", "expiry_date")
    def _check_dates(self):
        today = fields.Date.context_today(self)
        for rec in self:
            if rec.date > today:
                raise ValidationError(_("The prescription date cannot be in the future."))
            if rec.expiry_date and rec.expiry_date < rec.date:
                raise ValidationError(_("A prescription cannot expire before it was written."))

    @api.constrains("partner_id", *HEALTH_FIELDS - {"od_display", "os_display", "summary"})
    def _check_consent(self):
        today = fields.Date.context_today(self)
        for rec in self:
            if not rec.partner_id._optics_consent_valid_on(today):
                raise ValidationError(
                    _(
                        "%s has no valid consent to processing health data: record the signed consent "
                        "on the patient's card first (152-FZ).",
                        rec.partner_id.display_name,
                    )
                )

    # -- transposition ----------------------------------------------------------------------------------

    def _optics_transpose(self, convert):
        for rec in self:
            vals = {}
            for eye in ("od", "os"):
                try:
                    sph, cyl, axis = convert(rec[f"{eye}_sph"], rec[f"{eye}_cyl"], rec[f"{eye}_axis"] or None)
                except rx.RxError as err:
                    raise UserError(err.message) from err
                vals.update({f"{eye}_sph": float(sph), f"{eye}_cyl": float(cyl), f"{eye}_axis": axis or 0})
            rec.write(vals)

    def action_to_minus_cylinder(self):
        """Rewrite both eyes in minus-cylinder form (what most labs, e.g. ZEISS, expect)."""
        self._optics_transpose(rx.to_minus_cylinder)

    def action_to_plus_cylinder(self):
        """Rewrite both eyes in plus-cylinder form (as some ophthalmologists write)."""
        self._optics_transpose(rx.to_plus_cylinder)

    # -- the access log (152-FZ: who opened or changed health data) -------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("optics.prescription") or "/"
        records = super().create(vals_list)
        self.env["optics.prescription.access"]._log(records, "create", set().union(*vals_list))
        return records

    def write(self, vals):
        res = super().write(vals)
        self.env["optics.prescription.access"]._log(self, "write", vals)
        return res

    def unlink(self):
        self.env["optics.prescription.access"]._log(self, "unlink")
        return super().unlink()

    def _read_format(self, fnames, load="_classic_read"):
        result = super()._read_format(fnames, load)
        # Internal reads under sudo (computes, reports built by the system) are not a person opening data.
        if self and not self.env.su and HEALTH_FIELDS.intersection(fnames):
            self.env["optics.prescription.access"]._log(self, "read")
        return result

    def export_data(self, fields_to_export):
        self.env["optics.prescription.access"]._log(self, "export")
        return super().export_data(fields_to_export)
