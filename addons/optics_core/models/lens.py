"""Lens designs (optics.lens) and coatings: what a lens is and which prescriptions it can be made for."""

from decimal import Decimal

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..tools import rx

#: Refractive indices sold in Russia (mineral 1.50 … high-index 1.74); the issue's range 1.50…1.74.
LENS_INDICES = [
    ("1.50", "1.50"),
    ("1.53", "1.53"),
    ("1.56", "1.56"),
    ("1.59", "1.59"),
    ("1.60", "1.60"),
    ("1.67", "1.67"),
    ("1.71", "1.71"),
    ("1.74", "1.74"),
]
#: Types that carry an addition (a near zone); single-vision lenses have none.
MULTIFOCAL_TYPES = ("bifocal", "progressive", "office")


class OpticsLensCoating(models.Model):
    _name = "optics.lens.coating"
    _description = "Lens coating"
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(help="The coating's code in suppliers' price lists (e.g. HMC, BlueCut).")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)


class OpticsLens(models.Model):
    _name = "optics.lens"
    _description = "Lens design"
    _inherit = ["mail.thread"]
    _order = "name"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char("Supplier code", index=True)
    active = fields.Boolean(default=True)
    lens_type = fields.Selection(
        [
            ("single_vision", "Single vision"),
            ("bifocal", "Bifocal"),
            ("progressive", "Progressive"),
            ("office", "Office"),
        ],
        "Type",
        required=True,
        default="single_vision",
        tracking=True,
    )
    index = fields.Selection(LENS_INDICES, required=True, default="1.50", tracking=True)
    material = fields.Selection(
        [
            ("organic", "Organic (CR-39)"),
            ("polycarbonate", "Polycarbonate"),
            ("trivex", "Trivex"),
            ("mineral", "Mineral glass"),
        ],
        required=True,
        default="organic",
    )
    coating_ids = fields.Many2many("optics.lens.coating", string="Coatings")
    diameter = fields.Integer(
        "Diameter, mm", default=70, help="Uncut lens diameter; 50…85 mm covers stock and lab lenses."
    )
    sph_min = fields.Float("Sph from", digits=(4, 2), default=-8.0, tracking=True)
    sph_max = fields.Float("Sph to", digits=(4, 2), default=6.0, tracking=True)
    cyl_min = fields.Float(
        "Cyl from",
        digits=(4, 2),
        default=-4.0,
        tracking=True,
        help="Cylinder range in the sign the maker publishes (minus cylinder for most).",
    )
    cyl_max = fields.Float("Cyl to", digits=(4, 2), default=0.0, tracking=True)
    add_min = fields.Float("Add from", digits=(4, 2))
    add_max = fields.Float("Add to", digits=(4, 2))
    supplier_id = fields.Many2one("res.partner", index=True)
    product_tmpl_id = fields.Many2one(
        "product.template",
        "Stock product",
        ondelete="restrict",
        help="The product whose variants (one per Sph x Cyl) hold the stock of this design.",
    )
    variant_count = fields.Integer(related="product_tmpl_id.product_variant_count", string="Variants")
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)

    @api.constrains("sph_min", "sph_max", "cyl_min", "cyl_max", "add_min", "add_max", "lens_type", "diameter")
    def _check_ranges(self):
        for lens in self:
            try:
                sph = (rx.SPH.check(lens.sph_min), rx.SPH.check(lens.sph_max))
                cyl = (rx.CYL.check(lens.cyl_min), rx.CYL.check(lens.cyl_max))
                if lens.lens_type in MULTIFOCAL_TYPES:
                    add = (rx.ADD.check(lens.add_min), rx.ADD.check(lens.add_max))
                else:
                    add = None
            except rx.RxError as err:
                raise ValidationError(
                    _("Lens %(lens)s: %(error)s", lens=lens.name, error=err.message)
                ) from err
            if sph[0] > sph[1] or cyl[0] > cyl[1] or (add and add[0] > add[1]):
                raise ValidationError(_("Lens %s: a range starts above its end.", lens.name))
            if cyl[0] < 0 < cyl[1]:
                raise ValidationError(
                    _("Lens %s: the cylinder range is given in one sign (minus or plus cylinder).", lens.name)
                )
            if lens.lens_type not in MULTIFOCAL_TYPES and (lens.add_min or lens.add_max):
                raise ValidationError(_("Lens %s: a single-vision lens has no addition.", lens.name))
            if not 50 <= lens.diameter <= 85:
                raise ValidationError(_("Lens %s: the diameter must be 50…85 mm.", lens.name))

    def _optics_rx_problems(self, eye_rx):
        """Why this design cannot be made for one eye (``rx.EyeRx``); an empty list when it can.

        The prescription is first written in the cylinder sign of the design's range (transposition),
        as a lab would read it.
        """
        self.ensure_one()
        minus = self.cyl_min < 0 or (self.cyl_min == 0 and self.cyl_max == 0)
        convert = rx.to_minus_cylinder if minus else rx.to_plus_cylinder
        try:
            sph, cyl, _axis = convert(eye_rx.sph, eye_rx.cyl, eye_rx.axis)
        except rx.RxError as err:
            return [err.message]
        problems = []
        fmt = rx.format_power
        low, high = Decimal(str(self.sph_min)), Decimal(str(self.sph_max))
        if not low <= sph <= high:
            problems.append(_("Sph %(v)s is outside %(lo)s…%(hi)s", v=fmt(sph), lo=fmt(low), hi=fmt(high)))
        low, high = Decimal(str(self.cyl_min)), Decimal(str(self.cyl_max))
        if not low <= cyl <= high:
            problems.append(_("Cyl %(v)s is outside %(lo)s…%(hi)s", v=fmt(cyl), lo=fmt(low), hi=fmt(high)))
        if self.lens_type in MULTIFOCAL_TYPES:
            low, high = Decimal(str(self.add_min)), Decimal(str(self.add_max))
            if eye_rx.add is None:
                problems.append(_("a %s lens needs an addition (Add)", self.lens_type))
            elif not low <= eye_rx.add <= high:
                problems.append(
                    _("Add %(v)s is outside %(lo)s…%(hi)s", v=fmt(eye_rx.add), lo=fmt(low), hi=fmt(high))
                )
        return problems

    def _optics_check_prescription(self, prescription):
        """Raise a Russian ValidationError naming every eye this design cannot be made for."""
        self.ensure_one()
        messages = []
        for eye in ("od", "os"):
            problems = self._optics_rx_problems(prescription.sudo()._optics_eye(eye))
            if problems:
                messages.append(f"{eye.upper()}: {'; '.join(problems)}")
        if messages:
            raise ValidationError(
                _(
                    "Lens %(lens)s cannot be made for this prescription. %(why)s",
                    lens=self.name,
                    why=" ".join(messages),
                )
            )

    def action_open_stock_matrix(self):
        self.ensure_one()
        return {
            "type": "ir.actions.client",
            "tag": "optics_core.lens_matrix",
            "name": _("Stock matrix: %s", self.name),
            "params": {"lens_id": self.id},
        }

    def action_generate_grid(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("optics_core.action_lens_grid_wizard")
        action["context"] = {
            "default_lens_id": self.id,
            "default_sph_min": self.sph_min,
            "default_sph_max": self.sph_max,
            "default_cyl_min": self.cyl_min,
            "default_cyl_max": self.cyl_max,
        }
        return action
