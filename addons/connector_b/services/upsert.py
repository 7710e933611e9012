"""The upsert of one chunk: new products and vendor lines in batched ORM calls, price updates set-based.

Per chunk of 1,000 rows the query count does not grow with the rows: the match (``matching.py``) is one
query; new products are one batched ``product.template.create`` plus one batched vendor-line create (new
records keep every Odoo invariant: company, UoM category, unique barcodes, the optics VAT-code rule);
updates of existing vendor lines, sales prices and pricelist items are one ``UPDATE … FROM unnest(…)`` each.
Updated records get ``write_date``/``write_uid`` like an ORM write, so the POS's next data refresh sees them;
the ORM cache of the touched fields is invalidated. The cost (``standard_price``) is set for new products
only: on existing ones it belongs to inventory valuation, which a supplier list must not move.
"""

from dataclasses import dataclass
from decimal import Decimal

from ..engine import CHANGED_DOWN, CHANGED_UP, LENS_GRID, NEW, UNCHANGED

#: Statuses that are applied by a run (held rows wait for a manager, rejected rows never apply).
APPLIED = (NEW, CHANGED_UP, CHANGED_DOWN, UNCHANGED)
#: Our unit codes (engine/fields.py) → the UoM records new products get.
UOM_REFS = {"unit": "uom.product_uom_unit", "pair": "connector_b.uom_pair", "pack": "connector_b.uom_pack"}
_QUIET = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}


@dataclass(frozen=True, slots=True)
class Item:
    """One row to apply: its key, engine status and normalised values (Decimals for money and powers)."""

    key: str
    status: str
    values: dict


@dataclass(frozen=True, slots=True)
class Outcome:
    """What applying a row did: the product template it landed on, or the reason it was refused."""

    template_id: int | None = None
    refused: str | None = None


def _money(value) -> float | None:
    return None if value is None else float(Decimal(value))


class Upsert:
    """Applies items of one profile's run (``apply(items, matches)``); holds per-run lookups."""

    def __init__(self, env, profile, engine_profile, job_id: int | None):
        self.env = env
        self.profile = profile
        self.kind = engine_profile.kind
        self.retail = engine_profile.retail is not None
        self.job_id = job_id
        self.supplier_id = profile.supplier_id.id
        self.company = env.company
        self._categories: dict[str, tuple] = {}
        self._uoms = {code: env.ref(ref).id for code, ref in UOM_REFS.items()}
        self._variants = None
        self._routes = None

    # --- the chunk -----------------------------------------------------------------------------------

    def apply(self, items: list[Item], matches: dict) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        items = [i for i in items if i.status in APPLIED]
        known = [i for i in items if i.key in matches]
        fresh = [i for i in items if i.key not in matches]
        with_line = [i for i in known if matches[i.key].supplierinfo_id]
        without_line = [i for i in known if not matches[i.key].supplierinfo_id]
        if self.kind == LENS_GRID:
            outcomes.update(self._new_grid_lines(fresh))
        else:
            outcomes.update(self._create_products(fresh))
        outcomes.update(self._create_lines(without_line, {i.key: matches[i.key] for i in without_line}))
        self._update_lines(with_line, matches)
        for item in with_line:
            outcomes[item.key] = Outcome(matches[item.key].template_id)
        if self.retail:
            retail = [
                (outcomes[i.key].template_id, i.values["retail_price"])
                for i in items
                if outcomes.get(i.key)
                and outcomes[i.key].template_id
                and i.values.get("retail_price")
                and i.status != UNCHANGED
            ]
            self._set_retail(retail)
        return outcomes

    # --- new records (batched ORM) -------------------------------------------------------------------

    def _category(self, name):
        """(category id, tax ids or None, refusal) for the list's category text (cached per run)."""
        label = " ".join((name or "").split())
        cache_key = label.casefold()
        if cache_key not in self._categories:
            Category = self.env["product.category"]
            category = Category.search([("name", "=ilike", label)], limit=1) if label else Category
            category = category or self.profile.categ_id
            code, coded = self._required_code(category)
            taxes, refusal = None, None
            if code:
                taxes = self.env["account.tax"].search(
                    [("type_tax_use", "=", "sale"), ("company_id", "=", self.company.id),
                     ("optics_ffd_vat_code", "=", code)], limit=1,
                )  # fmt: skip
                if not taxes:
                    refusal = (
                        f"Категория «{coded.display_name}» требует налог с кодом НДС {code}, "
                        "а такого налога продаж в компании нет"
                    )
            self._categories[cache_key] = (category.id, taxes.ids if taxes else None, refusal)
        return self._categories[cache_key]

    @staticmethod
    def _required_code(category):
        node = category
        while node and not node.optics_ffd_vat_code:
            node = node.parent_id
        return (node.optics_ffd_vat_code, node) if node else (None, None)

    def _taken_barcodes(self, barcodes):
        if not barcodes:
            return {}
        self.env.cr.execute(
            """SELECT p.barcode, t.name->>'en_US' FROM product_product p
               JOIN product_template t ON t.id = p.product_tmpl_id WHERE p.barcode = ANY(%s)""",
            [list(barcodes)],
        )
        return dict(self.env.cr.fetchall())

    def _create_products(self, items: list[Item]) -> dict[str, Outcome]:
        """New products: templates and their single variants in one batched create each, the cost set-based.

        Templates are created without Odoo creating their variants one template at a time
        (``create_product_product=False``); the variants (SKU, barcode) follow in one batched create. The
        cost goes straight to its company property: a new product has no stock, so nothing is revalued.
        """
        outcomes, template_vals, accepted = {}, [], []
        taken = self._taken_barcodes({i.values["barcode"] for i in items if i.values.get("barcode")})
        for item in items:
            values = item.values
            barcode = values.get("barcode")
            if barcode and barcode in taken:
                outcomes[item.key] = Outcome(refused=f"Штрихкод {barcode} уже у товара «{taken[barcode]}»")
                continue
            categ_id, tax_ids, refusal = self._category(values.get("category"))
            if refusal:
                outcomes[item.key] = Outcome(refused=refusal)
                continue
            uom_id = self._uoms[values.get("unit") or "unit"]
            vals = {
                "name": values.get("name") or values.get("supplier_sku") or item.key,
                "detailed_type": "product",
                "categ_id": categ_id,
                "uom_id": uom_id,
                "uom_po_id": uom_id,
                "available_in_pos": True,
                "company_id": False,
                # A per-record default (one query per product) otherwise: the same for every product.
                "has_available_route_ids": self._has_routes(),
                "default_code": values.get("supplier_sku") or False,
            }
            if values.get("retail_price"):
                vals["list_price"] = _money(values["retail_price"])
            if tax_ids is not None:
                vals["taxes_id"] = [(6, 0, tax_ids)]
            template_vals.append(vals)
            accepted.append(item)
        if not template_vals:
            return outcomes
        templates = (
            self.env["product.template"]
            .with_context(create_product_product=False, **_QUIET)
            .create(template_vals)
        )
        products = (
            self.env["product.product"]
            .with_context(**_QUIET)
            .create(
                [
                    {
                        "product_tmpl_id": template.id,
                        "default_code": item.values.get("supplier_sku") or False,
                        "barcode": item.values.get("barcode") or False,
                    }
                    for item, template in zip(accepted, templates, strict=True)
                ]
            )
        )
        # The variants' creation marks the templates' stored ``default_code`` (= their single variant's) for
        # recomputation, flushed as one UPDATE per template since every code differs; the templates were
        # created with that very code, so there is nothing to recompute.
        self.env.remove_to_compute(templates._fields["default_code"], templates)
        self._set_costs(products, [item.values.get("price") for item in accepted])
        lines = []
        for item, template in zip(accepted, templates, strict=True):
            lines.append(self._line_vals(item, template.id, None))
            outcomes[item.key] = Outcome(template.id)
        self.env["product.supplierinfo"].with_context(**_QUIET).create(lines)
        return outcomes

    def _has_routes(self) -> bool:
        if self._routes is None:
            self._routes = bool(self.env["stock.route"].search_count([("product_selectable", "=", True)]))
        return self._routes

    def _set_costs(self, products, prices) -> None:
        """The cost of new products (``standard_price``, a company property) in one insert."""
        pairs = [(p.id, float(price)) for p, price in zip(products, prices, strict=True) if price is not None]
        if not pairs:
            return
        field = self.env["ir.model.fields"]._get("product.product", "standard_price")
        self.env.flush_all()
        self.env.cr.execute(
            """
            INSERT INTO ir_property (name, res_id, company_id, fields_id, type, value_float,
                                     create_uid, create_date, write_uid, write_date)
            SELECT 'standard_price', 'product.product,' || v.id, %s, %s, 'float', v.cost,
                   %s, now() AT TIME ZONE 'UTC', %s, now() AT TIME ZONE 'UTC'
              FROM unnest(%s::int[], %s::float8[]) AS v(id, cost)
            """,
            [
                self.company.id,
                field.id,
                self.env.uid,
                self.env.uid,
                [p for p, _ in pairs],
                [c for _, c in pairs],
            ],
        )
        self.env["product.product"].invalidate_model(["standard_price"])
        self.env["product.template"].invalidate_model(["standard_price"])

    def _line_vals(self, item: Item, template_id: int, product_id: int | None) -> dict:
        values = item.values
        return {
            "partner_id": self.supplier_id,
            "product_tmpl_id": template_id,
            "product_id": product_id or False,
            "product_code": values.get("supplier_sku") or (item.key if self.kind == LENS_GRID else False),
            "product_name": values.get("name") or False,
            "price": _money(values.get("price")) or 0.0,
            "min_qty": 0.0,
            "company_id": self.company.id,
            "currency_id": self.company.currency_id.id,
            "connector_supplier_qty": float(values.get("qty") or 0),
            "connector_job_id": self.job_id,
        }

    def _create_lines(self, items: list[Item], matches: dict) -> dict[str, Outcome]:
        if not items:
            return {}
        self.env["product.supplierinfo"].with_context(**_QUIET).create(
            [self._line_vals(i, matches[i.key].template_id, matches[i.key].product_id) for i in items]
        )
        return {i.key: Outcome(matches[i.key].template_id) for i in items}

    def _new_grid_lines(self, items: list[Item]) -> dict[str, Outcome]:
        """Grid cells without a vendor line yet: lines on the lens variant of that Sph/Cyl, if it exists."""
        template = self.profile.lens_template_id
        if self._variants is None:
            self.env.cr.execute(
                "SELECT id, optics_sph, optics_cyl FROM product_product "
                "WHERE product_tmpl_id = %s AND active",
                [template.id],
            )
            self._variants = {
                (round(s or 0, 2), round(c or 0, 2)): pid for pid, s, c in self.env.cr.fetchall()
            }
        outcomes, lines = {}, []
        for item in items:
            sph, cyl = item.values.get("sph"), item.values.get("cyl")
            variant = self._variants.get((round(float(sph), 2), round(float(cyl), 2)))
            if not variant:
                outcomes[item.key] = Outcome(
                    refused=f"У линзы «{template.display_name}» нет варианта Sph {sph:+.2f} Cyl {cyl:+.2f}: "
                    "создайте его сеткой остатков (optics_core)"
                )
                continue
            lines.append(self._line_vals(item, template.id, variant))
            outcomes[item.key] = Outcome(template.id)
        if lines:
            self.env["product.supplierinfo"].with_context(**_QUIET).create(lines)
        return outcomes

    # --- updates (set-based SQL) ---------------------------------------------------------------------

    def _update_lines(self, items: list[Item], matches: dict) -> None:
        if not items:
            return
        ids = [matches[i.key].supplierinfo_id for i in items]
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE product_supplierinfo s
               SET price = v.price, connector_supplier_qty = v.qty, connector_job_id = %s,
                   product_name = COALESCE(v.name, s.product_name),
                   write_uid = %s, write_date = (now() AT TIME ZONE 'UTC')
              FROM unnest(%s::int[], %s::numeric[], %s::float8[], %s::varchar[]) AS v(id, price, qty, name)
             WHERE s.id = v.id
            """,
            [
                self.job_id,
                self.env.uid,
                ids,
                [
                    i.values.get("price") if i.values.get("price") is not None else matches[i.key].price
                    for i in items
                ],
                [float(i.values.get("qty") or 0) for i in items],
                [i.values.get("name") for i in items],
            ],
        )
        self.env["product.supplierinfo"].invalidate_model(
            ["price", "connector_supplier_qty", "connector_job_id", "product_name", "write_uid", "write_date"]
        )

    def _set_retail(self, pairs: list[tuple[int, object]]) -> None:
        """Retail prices by template: the pricelist's fixed-price items, or the sales price."""
        if not pairs:
            return
        latest = dict(pairs)  # one price per template (the last row wins, as in the file)
        templates, prices = list(latest), [str(latest[t]) for t in latest]
        self.env.flush_all()
        if self.profile.pricelist_id:
            self._set_pricelist_items(templates, prices)
            return
        self.env.cr.execute(
            """
            WITH changed AS (
                UPDATE product_template t
                   SET list_price = v.price, write_uid = %s, write_date = (now() AT TIME ZONE 'UTC')
                  FROM unnest(%s::int[], %s::numeric[]) AS v(id, price)
                 WHERE t.id = v.id AND t.list_price IS DISTINCT FROM v.price
             RETURNING t.id)
            UPDATE product_product p SET write_uid = %s, write_date = (now() AT TIME ZONE 'UTC')
              FROM changed WHERE p.product_tmpl_id = changed.id
            """,
            [self.env.uid, templates, prices, self.env.uid],
        )
        self.env["product.template"].invalidate_model(["list_price", "write_uid", "write_date"])
        # ``list_price`` is also cached on the variants (inherited from the template through _inherits).
        self.env["product.product"].invalidate_model(["list_price", "lst_price", "write_uid", "write_date"])

    def _set_pricelist_items(self, templates: list[int], prices: list[str]) -> None:
        pricelist = self.profile.pricelist_id
        self.env.cr.execute(
            """
            UPDATE product_pricelist_item i
               SET fixed_price = v.price, write_uid = %s, write_date = (now() AT TIME ZONE 'UTC')
              FROM unnest(%s::int[], %s::numeric[]) AS v(tmpl, price)
             WHERE i.pricelist_id = %s AND i.applied_on = '1_product' AND i.product_tmpl_id = v.tmpl
               AND i.compute_price = 'fixed' AND i.min_quantity = 0
               AND i.date_start IS NULL AND i.date_end IS NULL
         RETURNING i.product_tmpl_id
            """,
            [self.env.uid, templates, prices, pricelist.id],
        )
        done = {row[0] for row in self.env.cr.fetchall()}
        self.env["product.pricelist.item"].invalidate_model(["fixed_price", "write_uid", "write_date"])
        missing = [(t, p) for t, p in zip(templates, prices, strict=True) if t not in done]
        if missing:
            self.env["product.pricelist.item"].with_context(**_QUIET).create(
                [
                    {"pricelist_id": pricelist.id, "applied_on": "1_product", "product_tmpl_id": t,
                     "compute_price": "fixed", "fixed_price": float(p), "min_quantity": 0}
                    for t, p in missing
                ]
            )  # fmt: skip
