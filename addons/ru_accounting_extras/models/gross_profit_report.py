# Gross profit by store, product category and period: a read-only SQL view with one row per sold product line
# of the POS and of sale orders, its revenue (untaxed, company currency) and its cost of goods from perpetual
# valuation (the stock valuation layers of the stock moves that delivered or took back the goods).
from odoo import api, fields, models, tools
from odoo.tools import SQL

#: The view: one row per POS line and per sale-line delivery (or return) move, plus delivered services.
QUERY = """
-- Product lines that are no sale: a glasses job's advance is a debt to the customer (62.02) until pickup,
-- when the job's own lines are the sale (matched by XML id: no rebuild of the view if the record changes).
WITH excluded_product AS (
    SELECT d.res_id AS product_id FROM ir_model_data d
     WHERE d.model = 'product.product' AND d.module = 'optics_pos_ru54fz' AND d.name = 'product_job_advance'
),
-- POS lines. The goods of an order leave in the order's own pickings (update_stock_quantities "real", an
-- invoiced order, a later shipping) or in the session's pickings made at closing, which group the lines
-- of all the session's other orders by product. A line's cost pool is therefore its order's pickings if
-- the order has any, else its session's pickings without an order; each picking belongs to exactly one
-- pool, so nothing is counted twice (order pickings carry the session too).
pos_line AS (
    SELECT l.id, o.id AS order_id, o.name AS order_ref, o.date_order AS date, o.company_id,
           pt.warehouse_id AS store_id, l.product_id, l.qty, o.currency_rate, l.price_subtotal,
           CASE WHEN l.qty < 0 THEN -1 ELSE 1 END AS direction,
           CASE WHEN EXISTS (SELECT 1 FROM stock_picking p WHERE p.pos_order_id = o.id)
                THEN o.id END AS pool_order_id,
           CASE WHEN NOT EXISTS (SELECT 1 FROM stock_picking p WHERE p.pos_order_id = o.id)
                THEN o.session_id END AS pool_session_id
      FROM pos_order_line l
      JOIN pos_order o ON o.id = l.order_id
      JOIN pos_session s ON s.id = o.session_id
      JOIN pos_config c ON c.id = s.config_id
      LEFT JOIN stock_picking_type pt ON pt.id = c.picking_type_id
     -- paid, posted with the session, or invoiced: the goods left the store
     WHERE o.state IN ('paid', 'done', 'invoiced')
       AND l.product_id NOT IN (SELECT product_id FROM excluded_product)
),
-- The valued moves of the POS pickings by pool, product and direction (1: goods out, -1: goods back);
-- cost = minus the layers' value (an out layer is negative). Unvalued moves (consumables, internal steps
-- of a multi-step delivery) have no layer.
pos_move_cost AS (
    SELECT p.pos_order_id AS pool_order_id,
           CASE WHEN p.pos_order_id IS NULL THEN p.pos_session_id END AS pool_session_id,
           m.product_id,
           CASE WHEN dest.usage IN ('internal', 'transit') THEN -1 ELSE 1 END AS direction,
           -SUM(svl.value) AS cost
      FROM stock_picking p
      JOIN stock_move m ON m.picking_id = p.id AND m.state = 'done'
      JOIN stock_location dest ON dest.id = m.location_dest_id
      JOIN stock_valuation_layer svl ON svl.stock_move_id = m.id
     WHERE p.pos_order_id IS NOT NULL OR p.pos_session_id IS NOT NULL
     GROUP BY 1, 2, 3, 4
),
-- Each line takes the share of its pool's cost of its quantity (the session's moves mix orders: Odoo's
-- own margin of such lines is the same average).
pos_row AS (
    SELECT l.*, mc.cost AS pool_cost,
           SUM(ABS(l.qty)) OVER (
               PARTITION BY l.pool_order_id, l.pool_session_id, l.product_id, l.direction
           ) AS pool_qty
      FROM pos_line l
      LEFT JOIN pos_move_cost mc
        ON mc.pool_order_id IS NOT DISTINCT FROM l.pool_order_id
       AND mc.pool_session_id IS NOT DISTINCT FROM l.pool_session_id
       AND mc.product_id = l.product_id
       AND mc.direction = l.direction
),
-- Sale order lines delivered from stock: one row per done move that Odoo counts in the delivered quantity
-- (sale_stock's _get_outgoing_incoming_moves: to the customer unless a return not to refund; back from
-- the customer when to refund), dated when it was done; revenue = its share of the line's untaxed amount.
sale_move AS (
    SELECT m.id, so.id AS order_id, so.name AS order_ref, m.date, so.company_id, so.warehouse_id AS store_id,
           m.product_id, so.currency_rate, sol.price_subtotal,
           sol.product_uom_qty / lu.factor * pu.factor AS line_qty,
           CASE WHEN dest.usage = 'customer' THEN 1 ELSE -1 END * m.quantity / mu.factor * pu.factor AS qty,
           (SELECT -SUM(svl.value) FROM stock_valuation_layer svl WHERE svl.stock_move_id = m.id) AS cost
      FROM stock_move m
      JOIN sale_order_line sol ON sol.id = m.sale_line_id
      JOIN sale_order so ON so.id = sol.order_id
      JOIN stock_location dest ON dest.id = m.location_dest_id
      JOIN product_product pp ON pp.id = m.product_id
      JOIN product_template ptm ON ptm.id = pp.product_tmpl_id
      JOIN uom_uom pu ON pu.id = ptm.uom_id
      JOIN uom_uom lu ON lu.id = sol.product_uom
      JOIN uom_uom mu ON mu.id = m.product_uom
     WHERE m.state = 'done' AND NOT COALESCE(m.scrapped, FALSE) AND m.product_id = sol.product_id
       AND so.state = 'sale'
       AND ((dest.usage = 'customer' AND (m.origin_returned_move_id IS NULL OR m.to_refund))
            OR (dest.usage <> 'customer' AND m.to_refund))
       AND m.product_id NOT IN (SELECT product_id FROM excluded_product)
),
-- Sale order lines not delivered by stock moves (services): their delivered quantity at the order's date,
-- no cost of goods.
sale_service AS (
    SELECT sol.id, so.id AS order_id, so.name AS order_ref, so.date_order AS date, so.company_id,
           so.warehouse_id AS store_id, sol.product_id, so.currency_rate, sol.price_subtotal,
           sol.product_uom_qty AS line_qty_uom, sol.qty_delivered,
           sol.qty_delivered / lu.factor * pu.factor AS qty
      FROM sale_order_line sol
      JOIN sale_order so ON so.id = sol.order_id
      JOIN product_product pp ON pp.id = sol.product_id
      JOIN product_template ptm ON ptm.id = pp.product_tmpl_id
      JOIN uom_uom pu ON pu.id = ptm.uom_id
      JOIN uom_uom lu ON lu.id = sol.product_uom
     WHERE so.state = 'sale' AND sol.display_type IS NULL AND NOT COALESCE(sol.is_downpayment, FALSE)
       AND sol.qty_delivered_method <> 'stock_move' AND sol.qty_delivered <> 0
       AND sol.product_id NOT IN (SELECT product_id FROM excluded_product)
),
line AS (
    SELECT r.id * 3 AS id, 'pos' AS source, r.order_id AS pos_order_id, NULL::integer AS sale_order_id,
           r.order_ref, r.date, r.company_id, r.store_id, r.product_id, r.qty AS quantity,
           r.price_subtotal / COALESCE(NULLIF(r.currency_rate, 0), 1.0) AS revenue,
           COALESCE(r.pool_cost * ABS(r.qty) / NULLIF(r.pool_qty, 0), 0.0) AS cost,
           r.pool_cost IS NULL AND ptm.type = 'product' AND r.qty <> 0 AS cost_missing
      FROM pos_row r
      JOIN product_product pp ON pp.id = r.product_id
      JOIN product_template ptm ON ptm.id = pp.product_tmpl_id
    UNION ALL
    SELECT m.id * 3 + 1, 'sale', NULL, m.order_id, m.order_ref, m.date, m.company_id, m.store_id,
           m.product_id, m.qty,
           m.price_subtotal * m.qty / NULLIF(m.line_qty, 0) / COALESCE(NULLIF(m.currency_rate, 0), 1.0),
           COALESCE(m.cost, 0.0), FALSE
      FROM sale_move m
    UNION ALL
    SELECT s.id * 3 + 2, 'sale', NULL, s.order_id, s.order_ref, s.date, s.company_id, s.store_id,
           s.product_id, s.qty,
           s.price_subtotal * s.qty_delivered / NULLIF(s.line_qty_uom, 0)
               / COALESCE(NULLIF(s.currency_rate, 0), 1.0),
           0.0, FALSE
      FROM sale_service s
)
SELECT line.id, line.source, line.pos_order_id, line.sale_order_id, line.order_ref, line.date,
       line.company_id, company.currency_id, line.store_id, line.product_id, ptm.categ_id, line.quantity,
       ROUND(line.revenue::numeric, cur.decimal_places) AS revenue,
       ROUND(line.cost::numeric, cur.decimal_places) AS cost,
       ROUND(line.revenue::numeric, cur.decimal_places) - ROUND(line.cost::numeric, cur.decimal_places)
           AS gross_profit,
       CASE WHEN ROUND(line.revenue::numeric, cur.decimal_places) = 0 THEN 0.0
            ELSE (1 - ROUND(line.cost::numeric, cur.decimal_places)
                      / ROUND(line.revenue::numeric, cur.decimal_places)) * 100 END AS margin_percent,
       line.cost_missing
  FROM line
  JOIN res_company company ON company.id = line.company_id
  JOIN res_currency cur ON cur.id = company.currency_id
  JOIN product_product pp ON pp.id = line.product_id
  JOIN product_template ptm ON ptm.id = pp.product_tmpl_id
"""


class RuGrossProfitReport(models.Model):
    _name = "ru.gross.profit.report"
    _description = "Gross profit by store and category"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "product_id"
    # The columns the view reads: a search flushes their pending writes first.
    _depends = {
        "pos.order.line": ["order_id", "product_id", "qty", "price_subtotal"],
        "pos.order": ["name", "date_order", "company_id", "session_id", "state", "currency_rate"],
        "pos.session": ["config_id"],
        "pos.config": ["picking_type_id"],
        "stock.picking.type": ["warehouse_id"],
        "stock.picking": ["pos_order_id", "pos_session_id"],
        "stock.move": [
            "picking_id",
            "state",
            "location_dest_id",
            "product_id",
            "product_uom",
            "quantity",
            "date",
            "sale_line_id",
            "scrapped",
            "origin_returned_move_id",
            "to_refund",
        ],
        "stock.location": ["usage"],
        "stock.valuation.layer": ["stock_move_id", "value"],
        "sale.order.line": [
            "order_id",
            "product_id",
            "product_uom",
            "product_uom_qty",
            "price_subtotal",
            "display_type",
            "is_downpayment",
            "qty_delivered_method",
            "qty_delivered",
        ],
        "sale.order": ["name", "date_order", "company_id", "warehouse_id", "state", "currency_rate"],
        "product.product": ["product_tmpl_id"],
        "product.template": ["uom_id", "categ_id", "type"],
        "uom.uom": ["factor"],
        "res.company": ["currency_id"],
        "res.currency": ["decimal_places"],
    }

    date = fields.Datetime(
        readonly=True,
        help="POS: the order's date. Sale orders: the date the delivery (or the return) was done, so each "
        "partial delivery falls in the period its goods left the store and its cost was posted.",
    )
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    store_id = fields.Many2one("stock.warehouse", readonly=True)
    source = fields.Selection([("pos", "Point of sale"), ("sale", "Sale order")], readonly=True)
    pos_order_id = fields.Many2one("pos.order", string="POS order", readonly=True)
    sale_order_id = fields.Many2one("sale.order", string="Sale order", readonly=True)
    order_ref = fields.Char("Order", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    categ_id = fields.Many2one("product.category", string="Product category", readonly=True)
    quantity = fields.Float(
        digits="Product Unit of Measure",
        readonly=True,
        help="In the product's unit of measure; negative for a refund or a return.",
    )
    revenue = fields.Monetary(
        readonly=True, help="Untaxed, in the company's currency; negative for a refund."
    )
    cost = fields.Monetary(
        "Cost of goods",
        readonly=True,
        help="The stock valuation of the goods delivered (FIFO, average or standard cost); negative for "
        "goods taken back.",
    )
    gross_profit = fields.Monetary(readonly=True, help="Revenue minus the cost of goods.")
    # Recomputed for groups by read_group (profit / revenue of the group), not averaged over the rows.
    margin_percent = fields.Float("Margin (%)", digits=(16, 2), group_operator="avg", readonly=True)
    cost_missing = fields.Boolean(
        "No cost yet",
        readonly=True,
        help="A stored product whose stock moves are not done yet: the POS session updates stock at closing "
        "and is still open, or its picking failed. Its cost is 0 until then.",
    )

    @api.model
    def read_group(self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True):
        """A group's margin is its gross profit over its revenue, not the average of its rows' margins."""
        names = {spec.split(":")[0] for spec in fields}
        if "margin_percent" not in names:
            return super().read_group(domain, fields, groupby, offset, limit, orderby, lazy)
        extra = [f"{name}:sum" for name in ("revenue", "gross_profit") if name not in names]
        groups = super().read_group(domain, list(fields) + extra, groupby, offset, limit, orderby, lazy)
        for group in groups:
            group["margin_percent"] = _margin(group.get("gross_profit") or 0.0, group.get("revenue") or 0.0)
        return groups

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), SQL(QUERY)))


def _margin(profit, revenue):
    """Margin in percent of revenue; 0 without revenue."""
    return profit / revenue * 100 if revenue else 0.0
