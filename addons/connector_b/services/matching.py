"""Today's state of one chunk's keys: which product and vendor line each key matches, and its current price.

One query per chunk (the engine calls ``prices(keys)`` once per chunk); the matches are kept for the
upsert of the same chunk, so classifying and applying a chunk read the database once. A key matches the
supplier's base vendor line (minimum quantity 0) by its product code, or a product by barcode (archived
products included: a barcode stays unique among them too).
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Match:
    """What a key found: the vendor line (None: the product has no line of this supplier yet), its product."""

    supplierinfo_id: int | None
    template_id: int
    product_id: int | None
    price: float | None


_BY_SKU = """
    SELECT DISTINCT ON (s.product_code) s.product_code, s.id, s.product_tmpl_id, s.product_id, s.price
      FROM product_supplierinfo s
     WHERE s.partner_id = %s AND s.min_qty = 0 AND (s.company_id = %s OR s.company_id IS NULL)
       AND s.product_code = ANY(%s)
  ORDER BY s.product_code, s.id
"""
_BY_BARCODE = """
    SELECT DISTINCT ON (p.barcode) p.barcode, s.id, p.product_tmpl_id, p.id, s.price
      FROM product_product p
 LEFT JOIN product_supplierinfo s
        ON s.partner_id = %s AND s.min_qty = 0 AND (s.company_id = %s OR s.company_id IS NULL)
       AND s.product_tmpl_id = p.product_tmpl_id AND (s.product_id IS NULL OR s.product_id = p.id)
     WHERE p.barcode = ANY(%s)
  ORDER BY p.barcode, s.id
"""


class Matcher:
    """``prices(keys)`` for the engine; ``matches`` of the last chunk for the upsert."""

    def __init__(self, env, supplier_id: int, upsert_key: str):
        self.env = env
        self.supplier_id = supplier_id
        self.sql = _BY_BARCODE if upsert_key == "barcode" else _BY_SKU
        self.matches: dict[str, Match] = {}

    def prices(self, keys):
        self.matches = self.find(keys)
        return {key: m.price for key, m in self.matches.items() if m.supplierinfo_id}

    def find_into(self, keys) -> None:
        """Match ``keys`` for an upsert outside the engine's run (approving held rows)."""
        self.matches = self.find(keys)

    def find(self, keys) -> dict[str, Match]:
        if not keys:
            return {}
        self.env.flush_all()
        self.env.cr.execute(self.sql, (self.supplier_id, self.env.company.id, list(keys)))
        return {
            key: Match(line, tmpl, product, price)
            for key, line, tmpl, product, price in self.env.cr.fetchall()
        }
