"""A lens design's stock grid: one product variant per Sph x Cyl, created in batches, and its stock matrix."""

from decimal import Decimal

from odoo import _, api, models
from odoo.exceptions import UserError

from ..tools import rx

#: Variants created per write: Odoo refuses more than ``product.dynamic_variant_limit`` (1000) new variants
#: in one write, and a realistic design (Sph −8…+6 x Cyl 0…−4 = 969) may grow past it; 250 keeps each
#: batch's flush and its cache small while staying a handful of writes for a full grid.
BATCH_VARIANTS = 250
#: Two decimals: every power on the 0.25 grid.
CENT = Decimal("0.01")


def _dec(value):
    return Decimal(str(value)).quantize(CENT)


class OpticsLensGrid(models.Model):
    _inherit = "optics.lens"

    @api.model
    def _optics_attribute(self, role):
        attribute = self.env["product.attribute"].search([("optics_role", "=", role)], limit=1)
        if not attribute:
            raise UserError(_("The product attribute for %s is missing; reinstall optics_core.", role))
        return attribute

    @api.model
    def _optics_attribute_values(self, attribute, grid, powers):
        """The attribute's values for ``powers`` (in that order), creating the missing ones in one call."""
        existing = {_dec(value.optics_power): value for value in attribute.value_ids}
        missing = [power for power in powers if power not in existing]
        if missing:
            created = self.env["product.attribute.value"].create(
                [
                    {
                        "attribute_id": attribute.id,
                        "name": rx.format_power(power),
                        "optics_power": float(power),
                        # Ascending power: the variant pickers list −8,00 … +6,00 in order.
                        "sequence": int((power - grid.low) / grid.step),
                    }
                    for power in missing
                ]
            )
            existing.update({_dec(value.optics_power): value for value in created})
        return self.env["product.attribute.value"].concat(*(existing[power] for power in powers))

    def _optics_grid_template(self, taxes=None, category=None):
        """The design's stock product, created on first use (storable, in the corrective-lens category)."""
        self.ensure_one()
        if self.product_tmpl_id:
            return self.product_tmpl_id
        category = category or self.env.ref("optics_core.product_category_spectacle_lenses")
        # No default_code: on a template it lands on one variant only; the supplier code stays on the lens.
        vals = {
            "name": self.name,
            "detailed_type": "product",
            "categ_id": category.id,
        }
        if taxes is not None:
            vals["taxes_id"] = [(6, 0, taxes.ids)]
        self.product_tmpl_id = self.env["product.template"].create(vals)
        return self.product_tmpl_id

    def generate_stock_grid(self, sph_min, sph_max, cyl_min, cyl_max, taxes=None, category=None):
        """Create the variants of every Sph x Cyl in the ranges (0.25 steps), batch by batch.

        Idempotent: existing variants stay, only missing combinations are created. Returns the number of
        variants created and the template's total. ``taxes`` (a recordset or ids, as over RPC) and
        ``category`` apply to a stock product created now.
        """
        self.ensure_one()
        self.check_access_rights("write")
        self.check_access_rule("write")
        if taxes is not None and not isinstance(taxes, models.BaseModel):
            taxes = self.env["account.tax"].browse(taxes)
        try:
            sph = rx.grid_values(rx.SPH.check(sph_min), rx.SPH.check(sph_max), rx.SPH.step)
            cyl = rx.grid_values(rx.CYL.check(cyl_min), rx.CYL.check(cyl_max), rx.CYL.step)
        except rx.RxError as err:
            raise UserError(err.message) from err
        if not sph or not cyl:
            raise UserError(_("The grid is empty: a range starts above its end."))
        # A new template starts with one attribute-less variant, which the first combination replaces.
        before = self.product_tmpl_id.product_variant_count if self.product_tmpl_id else 0
        template = self._optics_grid_template(taxes=taxes, category=category)
        sph_attr, cyl_attr = self._optics_attribute("sph"), self._optics_attribute("cyl")
        sph_values = self._optics_attribute_values(sph_attr, rx.SPH, sph)
        cyl_values = self._optics_attribute_values(cyl_attr, rx.CYL, cyl)
        lines = template.attribute_line_ids
        if lines.attribute_id - sph_attr - cyl_attr:
            raise UserError(
                _("%s has attributes other than Sph and Cyl: it cannot hold a stock grid.", template.name)
            )
        cyl_line = lines.filtered(lambda line: line.attribute_id == cyl_attr)
        sph_line = lines.filtered(lambda line: line.attribute_id == sph_attr)
        if not (cyl_line and sph_line):
            # Both lines in one write: a line alone would create variants the second one then replaces.
            first = sph_values[: max(1, BATCH_VARIANTS // len(cyl_values))]
            lines.unlink()
            template.write(
                {
                    "attribute_line_ids": [
                        (0, 0, {"attribute_id": cyl_attr.id, "value_ids": [(6, 0, cyl_values.ids)]}),
                        (0, 0, {"attribute_id": sph_attr.id, "value_ids": [(6, 0, first.ids)]}),
                    ]
                }
            )
            lines = template.attribute_line_ids
            cyl_line = lines.filtered(lambda line: line.attribute_id == cyl_attr)
            sph_line = lines.filtered(lambda line: line.attribute_id == sph_attr)
        # Each write below creates at most BATCH_VARIANTS variants: new columns times the rows there are,
        # then new rows times the columns there are.
        self._optics_extend_line(cyl_line, cyl_values - cyl_line.value_ids, len(sph_line.value_ids))
        self._optics_extend_line(sph_line, sph_values - sph_line.value_ids, len(cyl_line.value_ids))
        template.invalidate_recordset(["product_variant_count"])
        return {"created": template.product_variant_count - before, "total": template.product_variant_count}

    @api.model
    def _optics_extend_line(self, line, values, crossing):
        """Add ``values`` to an attribute line in batches of BATCH_VARIANTS // ``crossing`` values."""
        per_batch = max(1, BATCH_VARIANTS // max(1, crossing))
        for start in range(0, len(values), per_batch):
            line.value_ids = line.value_ids | values[start : start + per_batch]

    def _optics_matrix_stores(self):
        """The stores the user may look at: their own, plus every warehouse for inventory users."""
        stores = self.env.user.optics_store_ids
        if self.env.user.has_group("stock.group_stock_user"):
            stores |= self.env["stock.warehouse"].search([("company_id", "in", self.env.companies.ids)])
        return stores.sorted("name")

    def get_stock_matrix(self, store_id=None):
        """On-hand quantities of the design's variants in one store: rows Sph (plus on top), columns Cyl.

        Two queries whatever the grid's size: the variants' powers and the quants grouped by variant.
        """
        self.ensure_one()
        stores = self._optics_matrix_stores()
        store = stores.filtered(lambda s: s.id == store_id) if store_id else stores[:1]
        if store_id and not store:
            raise UserError(_("You do not work in this store."))
        variants = self.env["product.product"].search_read(
            [("product_tmpl_id", "=", self.product_tmpl_id.id), ("product_tmpl_id", "!=", False)],
            ["optics_sph", "optics_cyl"],
        )
        quantities = {}
        if store and variants:
            groups = (
                self.env["stock.quant"]
                .sudo()
                ._read_group(
                    [
                        ("product_id", "in", [v["id"] for v in variants]),
                        ("location_id.usage", "=", "internal"),
                        ("location_id.warehouse_id", "=", store.id),
                    ],
                    ["product_id"],
                    ["quantity:sum"],
                )
            )
            quantities = {product.id: qty for product, qty in groups}
        sph = sorted({_dec(v["optics_sph"]) for v in variants}, reverse=True)
        cyl = sorted({_dec(v["optics_cyl"]) for v in variants}, reverse=True)
        cells = {(_dec(v["optics_sph"]), _dec(v["optics_cyl"])): v["id"] for v in variants}
        rows = []
        for s in sph:
            row = []
            for c in cyl:
                product_id = cells.get((s, c))
                # False, not None, for a combination without a variant: XML-RPC cannot carry None.
                row.append(False if product_id is None else [product_id, quantities.get(product_id, 0.0)])
            rows.append({"sph": rx.format_power(s), "cells": row})
        return {
            "lens": {"id": self.id, "name": self.display_name},
            "stores": [{"id": s.id, "name": s.name} for s in stores],
            "store_id": store.id or False,
            "cyl": [rx.format_power(c) for c in cyl],
            "rows": rows,
            "variants": len(variants),
            "in_stock": sum(1 for qty in quantities.values() if qty > 0),
            "total": sum(quantities.values()),
        }
