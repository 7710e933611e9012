# Tests of the gross-profit report: revenue from the POS and from delivered sale orders, cost of goods from
# perpetual valuation (FIFO frames, average-cost lenses), per store and category, in both POS stock modes;
# the xlsx export cell by cell; the period in the user's time zone; a store accountant's record rule.
import io
from datetime import date, datetime

import openpyxl

from odoo import fields
from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.ru_accounting_extras.wizards.gross_profit_wizard import XLSX_REPORT
from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged

MOSCOW = "Europe/Moscow"

# The fixture, worked out by hand (VAT 20 % on top of every price, so revenue is the price × quantity).
#
# Receipts: frames (FIFO) 5 at 1 000.00 into store A, then 8 at 1 200.00 into store B; lenses (average cost)
# 10 at 500.00 into A, 10 at 700.00 into B → average (5 000 + 7 000) / 20 = 600.00.
#
# POS, store A, 5 March: 3 frames at 3 000.00 and 2 lenses at 1 500.00.
#   frames: revenue 9 000.00, cost FIFO 3 × 1 000 = 3 000.00 → left 2 at 1 000 + 8 at 1 200, and Odoo 17's
#           FIFO cost price becomes (2 000 + 9 600) / 10 = 1 160.00
#   lenses: revenue 3 000.00, cost 2 × 600 = 1 200.00
# POS refund, store A, 31 March 22:30 UTC = 1 April 01:30 in Moscow: 1 frame → revenue −3 000.00; the unit
#   comes back at the cost price 1 160.00 → cost −1 160.00.
# Sale order, store B, delivered 6 March: 5 frames at 3 000.00, 5 lenses at 1 400.00.
#   frames: revenue 15 000.00, cost FIFO 2 × 1 000 + 3 × 1 200 = 5 600.00
#   lenses: revenue 7 000.00, cost 5 × 600 = 3 000.00
# Return of 1 frame of that delivery (to refund), 10 April: revenue −3 000.00, cost back at the delivery's
#   unit cost 5 600 / 5 = −1 120.00.
#
# Store × category:     quantity   revenue       cost     profit
#   A  Frames                  2   6 000.00   1 840.00   4 160.00   (3 000 − 1 160)
#   A  Lenses                  2   3 000.00   1 200.00   1 800.00
#   B  Frames                  4  12 000.00   4 480.00   7 520.00   (5 600 − 1 120)
#   B  Lenses                  5   7 000.00   3 000.00   4 000.00
# Store:
#   A                              9 000.00   3 040.00   5 960.00   margin 5 960 / 9 000  = 66.222… %
#   B                             19 000.00   7 480.00  11 520.00   margin 11 520 / 19 000 = 60.631… %
#   Total                         28 000.00  10 520.00  17 480.00   margin 17 480 / 28 000 = 62.428… %
BY_CATEGORY = {
    ("A", "Frames"): (2, 6000.0, 1840.0, 4160.0),
    ("A", "Lenses"): (2, 3000.0, 1200.0, 1800.0),
    ("B", "Frames"): (4, 12000.0, 4480.0, 7520.0),
    ("B", "Lenses"): (5, 7000.0, 3000.0, 4000.0),
}
BY_STORE = {"A": (9000.0, 3040.0, 5960.0), "B": (19000.0, 7480.0, 11520.0)}


@tagged("post_install", "-at_install")
class TestGrossProfit(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls, chart_template_ref="ru"):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.company = cls.company_data["company"]
        # The test runs as the chief accountant (every store); test_store_accountant… as a store's accountant.
        cls.env.user.groups_id |= cls.env.ref("ru_accounting_extras.group_chief_accountant")
        cls.Report = cls.env["ru.gross.profit.report"]
        cls.store_a = cls.env["stock.warehouse"].search([("company_id", "=", cls.company.id)], limit=1)
        cls.store_a.name = "Store A"
        cls.store_b = cls.env["stock.warehouse"].create(
            {"name": "Store B", "code": "STB", "company_id": cls.company.id}
        )
        cls.stores = {"A": cls.store_a, "B": cls.store_b}
        cls.vat = cls.env["account.tax"].create(
            {"name": "VAT 20 % (test)", "amount": 20, "amount_type": "percent", "type_tax_use": "sale",
             "price_include": False, "company_id": cls.company.id}
        )  # fmt: skip
        cls.frames = cls._category("Frames", "fifo")
        cls.lenses = cls._category("Lenses", "average")
        cls.frame = cls._product("Frame", cls.frames)
        cls.lens = cls._product("Lens", cls.lenses)
        cls._receive(cls.frame, cls.store_a, 5, 1000.0)
        cls._receive(cls.frame, cls.store_b, 8, 1200.0)
        cls._receive(cls.lens, cls.store_a, 10, 500.0)
        cls._receive(cls.lens, cls.store_b, 10, 700.0)
        cls.customer = cls.env["res.partner"].create({"name": "Customer"})
        cls._setup_pos()

    # --- fixture ---

    @classmethod
    def _category(cls, name, cost_method):
        # Real-time valuation: the accounts come from the Russian chart's defaults (STOCK_PROPERTIES).
        return cls.env["product.category"].create(
            {"name": name, "property_cost_method": cost_method, "property_valuation": "real_time"}
        )

    @classmethod
    def _product(cls, name, category):
        return cls.env["product.product"].create(
            {"name": name, "type": "product", "categ_id": category.id, "available_in_pos": True,
             "taxes_id": [(6, 0, cls.vat.ids)]}
        )  # fmt: skip

    @classmethod
    def _receive(cls, product, store, qty, unit_cost):
        move = cls.env["stock.move"].create(
            {"name": f"Receipt {product.name}", "product_id": product.id, "product_uom": product.uom_id.id,
             "product_uom_qty": qty, "price_unit": unit_cost, "company_id": cls.company.id,
             "location_id": cls.env.ref("stock.stock_location_suppliers").id,
             "location_dest_id": store.lot_stock_id.id, "picking_type_id": store.in_type_id.id}
        )  # fmt: skip
        move._action_confirm()
        move.quantity = qty
        move.picked = True
        move._action_done()

    @classmethod
    def _setup_pos(cls):
        receivable = cls.company.account_default_pos_receivable_account_id
        if not receivable:
            receivable = cls.env["account.account"].create(
                {"code": "62.01.POS", "name": "POS receivable (test)", "account_type": "asset_receivable",
                 "reconcile": True, "company_id": cls.company.id}
            )  # fmt: skip
            cls.company.account_default_pos_receivable_account_id = receivable
        # A cash journal of its own: a journal takes one cash payment method.
        journal = cls.env["account.journal"].create(
            {"name": "Cash A (test)", "type": "cash", "code": "GPCA", "company_id": cls.company.id}
        )
        cls.cash = cls.env["pos.payment.method"].create(
            {"name": "Cash A", "journal_id": journal.id,
             "receivable_account_id": receivable.id, "company_id": cls.company.id}
        )  # fmt: skip
        cls.config = cls.env["pos.config"].create(
            {"name": "Till A", "company_id": cls.company.id,
             "journal_id": cls.company_data["default_journal_sale"].id,
             "invoice_journal_id": cls.company_data["default_journal_sale"].id,
             "payment_method_ids": [(6, 0, cls.cash.ids)], "picking_type_id": cls.store_a.pos_type_id.id}
        )  # fmt: skip

    def _open_session(self, mode):
        self.company.point_of_sale_update_stock_quantities = mode
        self.config.open_ui()
        session = self.config.current_session_id
        session.set_cashbox_pos(0, None)
        self.assertEqual(session.update_stock_at_closing, mode == "closing")
        return session

    def _pos_order(self, session, lines, when):
        """A paid POS order as the POS sends it. lines: (product, quantity, unit price excl. VAT[, refunded
        line]); cash payment of the total incl. VAT; date_order written afterwards (UTC)."""
        order_lines, untaxed = [], 0.0
        for product, qty, price, *refunded in lines:
            untaxed += qty * price
            order_lines.append(
                (0, 0, {"product_id": product.id, "qty": qty, "price_unit": price, "discount": 0,
                        "price_subtotal": qty * price, "price_subtotal_incl": qty * price * 1.2,
                        "tax_ids": [(6, 0, self.vat.ids)], "pack_lot_ids": [],
                        "refunded_orderline_id": refunded[0].id if refunded else False})
            )  # fmt: skip
        total = round(untaxed * 1.2, 2)
        self.sequence = getattr(self, "sequence", 0) + 1
        uid = f"00001-001-{self.sequence:04d}"
        now = fields.Datetime.to_string(fields.Datetime.now())
        data = {
            "id": uid,
            "to_invoice": False,
            "data": {
                "uid": uid, "name": f"Order {uid}", "pos_session_id": session.id,
                "sequence_number": self.sequence, "user_id": self.env.uid, "partner_id": False,
                "fiscal_position_id": False, "pricelist_id": self.config.pricelist_id.id, "date_order": now,
                "lines": order_lines,
                "amount_tax": round(total - untaxed, 2), "amount_total": total, "amount_paid": total,
                "amount_return": 0, "to_invoice": False,
                "statement_ids": [(0, 0, {"amount": total, "name": now, "payment_method_id": self.cash.id})],
            },
        }  # fmt: skip
        [result] = self.env["pos.order"].create_from_ui([data])
        order = self.env["pos.order"].browse(result["id"])
        order.date_order = when
        return order

    def _close_session(self, session):
        cash = sum(session.order_ids.payment_ids.mapped("amount"))
        session.post_closing_cash_details(cash)
        result = session.close_session_from_ui()
        self.assertTrue(result.get("successful"), result)
        self.assertEqual(session.state, "closed")

    def _sell_in_store_b(self):
        """The sale order of store B: delivered 6 March, one frame returned (to refund) 10 April."""
        order = self.env["sale.order"].create(
            {"partner_id": self.customer.id, "warehouse_id": self.store_b.id, "order_line": [
                (0, 0, {"product_id": self.frame.id, "product_uom_qty": 5, "price_unit": 3000.0,
                        "tax_id": [(6, 0, self.vat.ids)]}),
                (0, 0, {"product_id": self.lens.id, "product_uom_qty": 5, "price_unit": 1400.0,
                        "tax_id": [(6, 0, self.vat.ids)]}),
            ]}
        )  # fmt: skip
        order.action_confirm()
        delivery = order.picking_ids
        self.assertEqual(delivery.picking_type_id.warehouse_id, self.store_b)
        delivery.move_ids.picked = True
        delivery._action_done()
        self.assertEqual(delivery.state, "done")
        delivery.move_ids.date = datetime(2024, 3, 6, 9, 0)
        wizard = self.env["stock.return.picking"].create({"picking_id": delivery.id})
        for line in wizard.product_return_moves:
            line.write({"quantity": 1 if line.product_id == self.frame else 0, "to_refund": True})
        returned = self.env["stock.picking"].browse(wizard._create_returns()[0])
        returned.move_ids.filtered(lambda m: m.product_uom_qty).write({"quantity": 1, "picked": True})
        returned._action_done()
        returned.move_ids.date = datetime(2024, 4, 10, 9, 0)
        self.assertEqual(order.order_line.mapped("qty_delivered"), [4, 5])
        return order

    def _sell(self, mode="real"):
        """The whole fixture: POS sales and refund in store A (session closed in "closing" mode), then the
        sale order of store B."""
        session = self._open_session(mode)
        sale = self._pos_order(
            session, [(self.frame, 3, 3000.0), (self.lens, 2, 1500.0)], datetime(2024, 3, 5, 9, 0)
        )
        frame_line = sale.lines.filtered(lambda line: line.product_id == self.frame)
        refund = self._pos_order(
            session, [(self.frame, -1, 3000.0, frame_line)], datetime(2024, 3, 31, 22, 30)
        )
        if mode == "closing":
            self._close_session(session)
        self._sell_in_store_b()
        return session, sale, refund

    # --- helpers ---

    def _figures(self, domain=(), groupby=("store_id", "categ_id"), user=None):
        """{(store letter, category name): (quantity, revenue, cost, profit)} of the report rows."""
        Report = self.Report.with_user(user) if user else self.Report
        domain = [("company_id", "=", self.company.id), *domain]
        aggregates = ["quantity:sum", "revenue:sum", "cost:sum", "gross_profit:sum"]
        letters = {store: letter for letter, store in self.stores.items()}
        result = {}
        for *groups, quantity, revenue, cost, profit in Report._read_group(domain, list(groupby), aggregates):
            key = tuple(letters.get(g, g.display_name) if g._name == "stock.warehouse" else g.display_name
                        for g in groups)  # fmt: skip
            result[key] = (quantity, round(revenue, 2), round(cost, 2), round(profit, 2))
        return result

    def _wizard(self, date_from, date_to, user=None):
        Wizard = self.env["ru.gross.profit.wizard"].with_context(tz=MOSCOW)
        if user:
            Wizard = Wizard.with_user(user)
        return Wizard.create(
            {"date_from": date_from, "date_to": date_to, "company_ids": [(6, 0, self.company.ids)]}
        )

    def _workbook(self, wizard):
        data, kind = (
            self.env["ir.actions.report"]
            .with_user(wizard.env.user)
            ._render_xlsx(XLSX_REPORT, wizard.ids, None)
        )
        self.assertEqual(kind, "xlsx")
        return openpyxl.load_workbook(io.BytesIO(data))

    @staticmethod
    def _rows(sheet):
        """The sheet's rows from row 4 (after the title and the headers), values only."""
        return [list(row) for row in sheet.iter_rows(min_row=4, values_only=True)]

    # --- tests ---

    def test_store_and_category_figures(self):
        session, sale, refund = self._sell("real")
        # "real" mode: each order has its own pickings, and they carry the session too (they are the
        # session's picking_ids): taking an order's pickings and its session's would count the cost twice.
        self.assertTrue(sale.picking_ids and refund.picking_ids)
        self.assertEqual(session.picking_ids, (sale | refund).picking_ids)
        self.assertEqual(self._figures(), BY_CATEGORY)
        store_figures = {key: values[1:] for key, values in self._figures(groupby=["store_id"]).items()}
        self.assertEqual(store_figures, {(letter,): values for letter, values in BY_STORE.items()})
        # Rows: the POS frame sale and refund of store A, each with its own cost.
        rows = self.Report.search(
            [("pos_order_id", "in", (sale | refund).ids), ("product_id", "=", self.frame.id)]
        )
        self.assertEqual(
            sorted(rows.mapped(lambda r: (r.quantity, r.revenue, r.cost, r.gross_profit, r.source))),
            [(-1, -3000.0, -1160.0, -1840.0, "pos"), (3, 9000.0, 3000.0, 6000.0, "pos")],
        )
        self.assertFalse(
            any(self.Report.search([("company_id", "=", self.company.id)]).mapped("cost_missing"))
        )
        # A group's margin is its profit over its revenue: A 5 960 / 9 000, B 11 520 / 19 000.
        groups = self.Report.read_group(
            [("company_id", "=", self.company.id)], ["margin_percent:avg"], ["store_id"]
        )
        margins = {g["store_id"][0]: g["margin_percent"] for g in groups}
        self.assertAlmostEqual(margins[self.store_a.id], 66.2222, places=4)
        self.assertAlmostEqual(margins[self.store_b.id], 60.6316, places=4)

    def test_session_pickings_at_closing(self):
        """ "closing" mode: the session's pickings group the lines of its orders by product; each line takes
        its share of the pickings' cost, and the store's figures are those of the "real" mode."""
        session = self._open_session("closing")
        first = self._pos_order(
            session, [(self.frame, 2, 3000.0), (self.lens, 2, 1500.0)], datetime(2024, 3, 5, 9)
        )
        second = self._pos_order(session, [(self.frame, 1, 3000.0)], datetime(2024, 3, 5, 10))
        frame_line = first.lines.filtered(lambda line: line.product_id == self.frame)
        refund = self._pos_order(session, [(self.frame, -1, 3000.0, frame_line)], datetime(2024, 3, 5, 11))
        orders = first | second | refund
        # Before closing no goods have left: no cost yet, flagged.
        rows = self.Report.search([("pos_order_id", "in", orders.ids)])
        self.assertEqual(len(rows), 4)
        self.assertEqual(rows.mapped("cost"), [0.0] * 4)
        self.assertTrue(all(rows.mapped("cost_missing")))
        self._close_session(session)
        self.Report.invalidate_model()  # the rows read above are cached; a new request reads them again
        # One picking out (3 frames, 2 lenses) and one back (1 frame), of the session, of no order.
        self.assertEqual(len(session.picking_ids), 2)
        self.assertFalse(session.picking_ids.pos_order_id)
        self.assertFalse(orders.picking_ids)
        # The frames' out move cost FIFO 3 × 1 000 = 3 000: 2 000 for the first order, 1 000 for the second;
        # the refunded frame came back at the cost price (2 000 + 9 600) / 10 = 1 160.
        cost = {
            (row.pos_order_id, row.product_id): row.cost
            for row in self.Report.search([("pos_order_id", "in", orders.ids)])
        }
        self.assertEqual(
            cost,
            {(first, self.frame): 2000.0, (first, self.lens): 1200.0, (second, self.frame): 1000.0,
             (refund, self.frame): -1160.0},
        )  # fmt: skip
        self.assertEqual(
            self._figures(),
            {("A", "Frames"): BY_CATEGORY[("A", "Frames")], ("A", "Lenses"): BY_CATEGORY[("A", "Lenses")]},
        )

    def test_xlsx_workbook(self):
        self._sell("real")
        wizard = self._wizard(date(2024, 3, 1), date(2024, 4, 30))
        action = wizard.action_export_xlsx()
        self.assertEqual(
            (action["type"], action["report_type"], action["report_name"]),
            ("ir.actions.report", "xlsx", "ru_accounting_extras.gross_profit_xlsx"),
        )
        self.assertEqual(wizard.action_open_analysis()["domain"], wizard._report_domain())
        book = self._workbook(wizard)
        self.assertEqual(book.sheetnames, ["By category", "By store"])
        by_category = book["By category"]
        self.assertEqual(by_category["A1"].value, "Gross profit from 01.03.2024 to 30.04.2024")
        self.assertEqual(
            [c.value for c in by_category[3]],
            ["Store", "Product category", "Quantity", "Revenue", "Cost of goods", "Gross profit", "Margin"],
        )
        # Numbers as numbers; margin as a fraction in the percent format: 4 160 / 6 000 = 0.693333.
        self.assertEqual(
            self._rows(by_category),
            [
                ["Store A", "Frames", 2, 6000, 1840, 4160, 0.693333],
                ["Store A", "Lenses", 2, 3000, 1200, 1800, 0.6],
                ["Store B", "Frames", 4, 12000, 4480, 7520, 0.626667],
                ["Store B", "Lenses", 5, 7000, 3000, 4000, 0.571429],
                ["Total", None, 13, 28000, 10520, 17480, 0.624286],
            ],
        )
        self.assertEqual(by_category["D4"].number_format, "#,##0.00")
        self.assertEqual(by_category["G4"].number_format, "0.00%")
        by_store = book["By store"]
        self.assertEqual(
            [c.value for c in by_store[3]], ["Store", "Revenue", "Cost of goods", "Gross profit", "Margin"]
        )
        # 5 960 / 9 000 = 0.662222; 11 520 / 19 000 = 0.606316; 17 480 / 28 000 = 0.624286.
        self.assertEqual(
            self._rows(by_store),
            [
                ["Store A", 9000, 3040, 5960, 0.662222],
                ["Store B", 19000, 7480, 11520, 0.606316],
                ["Total", 28000, 10520, 17480, 0.624286],
            ],
        )

    def test_period_in_the_users_time_zone(self):
        """The POS refund of 31 March 22:30 UTC is 1 April in Moscow: April's, like the sale return."""
        self._sell("real")
        march = self._wizard(date(2024, 3, 1), date(2024, 3, 31))
        self.assertEqual(
            self._figures(march._report_domain()),
            {("A", "Frames"): (3, 9000.0, 3000.0, 6000.0), ("A", "Lenses"): (2, 3000.0, 1200.0, 1800.0),
             ("B", "Frames"): (5, 15000.0, 5600.0, 9400.0), ("B", "Lenses"): (5, 7000.0, 3000.0, 4000.0)},
        )  # fmt: skip
        april = self._wizard(date(2024, 4, 1), date(2024, 4, 30))
        self.assertEqual(
            self._figures(april._report_domain()),
            {
                ("A", "Frames"): (-1, -3000.0, -1160.0, -1840.0),
                ("B", "Frames"): (-1, -3000.0, -1120.0, -1880.0),
            },
        )
        only_b = self._wizard(date(2024, 4, 1), date(2024, 4, 30))
        only_b.store_ids = self.store_b
        self.assertEqual(list(self._figures(only_b._report_domain())), [("B", "Frames")])
        with self.assertRaises(ValidationError):
            self._wizard(date(2024, 4, 2), date(2024, 4, 1))

    def test_store_accountant_sees_their_stores_only(self):
        self._sell("real")
        accountant = new_test_user(
            self.env, login="gp_store_a", groups="ru_accounting_extras.group_store_accountant",
            company_id=self.company.id, company_ids=[(6, 0, self.company.ids)],
        )  # fmt: skip
        accountant.optics_store_ids = self.store_a
        chief = new_test_user(
            self.env, login="gp_chief", groups="ru_accounting_extras.group_chief_accountant",
            company_id=self.company.id, company_ids=[(6, 0, self.company.ids)],
        )  # fmt: skip
        self.assertEqual(self.Report.with_user(accountant).search([]).store_id, self.store_a)
        self.assertEqual(
            self._figures(user=accountant),
            {("A", "Frames"): BY_CATEGORY[("A", "Frames")], ("A", "Lenses"): BY_CATEGORY[("A", "Lenses")]},
        )
        self.assertEqual(self._figures(user=chief), BY_CATEGORY)
        # The export runs as the user: store A's accountant gets store A alone, even asking for store B.
        wizard = self._wizard(date(2024, 3, 1), date(2024, 4, 30), user=accountant)
        wizard.store_ids = self.store_a | self.store_b
        by_store = self._workbook(wizard)["By store"]
        self.assertEqual(
            self._rows(by_store),
            [["Store A", 9000, 3040, 5960, 0.662222], ["Total", 9000, 3040, 5960, 0.662222]],
        )
