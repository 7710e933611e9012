# Tests of the cash orders and the cash book: a KO-1 per Z report (once, numbered 1, 2, … per type and year,
# dated in the till's time zone), KO-2 / KO-1 from POS cash out / in, the creation API, the cash book's
# balances and sheets, the printed forms (amounts in figures and words, OKUD codes) and who sees which orders.
import re

from freezegun import freeze_time

from odoo.addons.point_of_sale.tests.common import TestPoSCommon
from odoo.addons.ru_accounting_extras.models.cash_amount_words import rubles_in_words
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

NBSP = "\u00a0"


@tagged("post_install", "-at_install")
class TestCashOrders(TestPoSCommon):
    @classmethod
    def setUpClass(cls, chart_template_ref="ru"):
        super().setUpClass(chart_template_ref=chart_template_ref)
        # The basis is written in the company's language: English here, whatever ru.po says.
        cls.company.partner_id.lang = "en_US"
        cls.chart = cls.env["account.chart.template"].with_company(cls.company)
        # A store of its own with one till: Odoo lets a cash journal serve one POS config only, and the
        # company's first warehouse carries all of TestPoSCommon's configs.
        cls.store = cls.env["stock.warehouse"].create({"name": "KO store", "code": "KOS"})
        cls.basic_config.picking_type_id = cls.store.pos_type_id
        # The test's user is the company's accountant; the POS hooks make orders through sudo whoever calls.
        cls.env.user.groups_id |= cls.env.ref("ru_accounting_extras.group_chief_accountant")
        cls.store.action_ru_setup_cash()
        cls.till = (
            cls.env["pos.offline.buffer.status"]
            .sudo()
            .create({"name": "Cash orders till", "pos_id": "kkt-ko-1", "tz": "Europe/Moscow"})
        )
        cls.Order = cls.env["ru.cash.order"]

    def setUp(self):
        super().setUp()
        self.config = self.basic_config
        self.open_new_session()

    def record_z(self, shift, cash, closed_at="2026-03-11T21:00:00"):
        """The POS hands Odoo a Z report of the till (closed_at in the till's local time, Moscow)."""
        report = {
            "pos_id": self.till.pos_id,
            "shift_number": shift,
            "fd_number": 1000 + shift,
            "closed_at": closed_at,
            "totals": {"receipts": 4, "sales": "20000.00", "refunds": "0", "cash": cash, "electronic": "0"},
        }
        z_id = self.env["pos.session"].optics_record_shift_report(self.pos_session.id, report)
        return self.env["optics.pos.shift.report"].browse(z_id)

    def orders_of(self, z):
        return self.Order.search([("shift_report_id", "=", z.id)])

    def cash_move(self, kind, amount, reason):
        """A POS cash in / out on 11 March 2026 (Odoo dates its statement line today)."""
        with freeze_time("2026-03-11 09:00:00"):
            self.pos_session.try_cash_in_out(kind, amount, reason, {"translatedType": kind})
        line = self.env["account.bank.statement.line"].search(
            [("pos_session_id", "=", self.pos_session.id)], order="id desc", limit=1
        )
        return line, self.Order.search([("origin", "=", f"{line._name},{line.id}")])

    # --- KO-1 from Z reports -------------------------------------------------------------------------

    def test_a_z_report_makes_one_incoming_order(self):
        # Closed at 01:30 in Moscow on 11 March = 22:30 UTC on 10 March: the order is of the store's day.
        z = self.record_z(7, "12345.67", closed_at="2026-03-11T01:30:00")
        order = self.orders_of(z)
        self.assertEqual(len(order), 1)
        self.assertEqual(
            (order.order_type, order.amount, order.state, order.name),
            ("in", 12345.67, "posted", "1"),
        )
        self.assertEqual(order.basis, "Takings by Z report No. 7, KKT kkt-ko-1")
        self.assertEqual(order.account_id, self.chart.ref("ru_acc_90_01_1"))
        self.assertEqual(order.account_id.code, "90.01.1")
        self.assertEqual(str(order.date), "2026-03-11")
        self.assertEqual(order.store_id, self.store)
        self.assertEqual(order.cashier_id, self.pos_session.user_id)
        self.assertEqual(order.counterpart, self.pos_session.user_id.name)
        self.assertEqual(z.ru_cash_order_id, order)
        self.assertEqual(order.display_name, "KO-1 No. 1 of 11.03.2026")

        # The POS delivers the same Z again (its queue did not see Odoo's answer): nothing new.
        again = self.record_z(7, "12345.67", closed_at="2026-03-11T01:30:00")
        self.assertEqual(again, z)
        self.assertEqual(self.Order.search_count([("store_id", "=", self.store.id)]), 1)
        z._ru_make_cash_orders()  # the hook run again on a Z that has its order
        self.assertEqual(self.orders_of(z), order)

        # The next shift's Z is the year's second incoming order.
        second = self.orders_of(self.record_z(8, "100.00"))
        self.assertEqual((second.name, second.amount), ("2", 100.0))
        self.assertEqual(self.Order.search_count([("store_id", "=", self.store.id)]), 2)

    def test_a_z_report_without_cash_makes_no_order_and_net_refunds_an_outgoing_one(self):
        self.assertFalse(self.orders_of(self.record_z(9, "0.00")))
        # Cash refunds exceeded cash sales by 300.00 (the Z's cash is net): paid out of the drawer.
        order = self.orders_of(self.record_z(10, "-300.00"))
        self.assertEqual((order.order_type, order.amount, order.name), ("out", 300.0, "1"))
        self.assertEqual(order.basis, "Cash refunds to buyers by Z report No. 10, KKT kkt-ko-1")

    def test_numbers_start_again_each_year(self):
        last = self.orders_of(self.record_z(20, "10.00", closed_at="2026-12-31T20:00:00"))
        first = self.orders_of(self.record_z(21, "10.00", closed_at="2027-01-01T10:00:00"))
        self.assertEqual((str(last.date), last.name), ("2026-12-31", "1"))
        self.assertEqual((str(first.date), first.name), ("2027-01-01", "1"))

    # --- KO-2 / KO-1 from POS cash out / in ----------------------------------------------------------

    def test_pos_cash_out_and_in_make_orders(self):
        out_line, out = self.cash_move("out", 1000.0, "Collection to the bank")
        self.assertEqual(out_line.amount, -1000.0)
        self.assertEqual((out.order_type, out.amount, out.state), ("out", 1000.0, "posted"))
        self.assertEqual((out.basis, str(out.date)), ("Collection to the bank", "2026-03-11"))
        # The corresponding account is the one of the line's entry: the journal's suspense account.
        self.assertEqual(out.account_id, out_line.journal_id.suspense_account_id)
        self.assertEqual(out.move_id, out_line.move_id)
        _in_line, incoming = self.cash_move("in", 250.0, "Change for the till")
        self.assertEqual((incoming.order_type, incoming.amount), ("in", 250.0))
        # Incoming and outgoing orders are numbered separately: each is its type's first of 2026.
        self.assertEqual((out.name, incoming.name), ("1", "1"))

    # --- the creation API -------------------------------------------------------------------------------

    def test_create_for_another_record_is_idempotent_and_checked(self):
        line = self.env["account.bank.statement.line"].create(
            {"journal_id": self.store.ru_cash_journal_id.id, "amount": -300.0, "payment_ref": "Transfer"}
        )
        transit = self.chart.ref("ru_acc_57_01")
        order = self.Order._ru_create_for(line, "out", self.store, 300.0, "Cash transfer", account=transit)
        self.assertEqual((order.state, order.name, order.account_id), ("posted", "1", transit))
        again = self.Order._ru_create_for(line, "out", self.store, 300.0, "Cash transfer", account=transit)
        self.assertEqual(again, order)
        self.assertFalse(self.Order._ru_create_for(line, "in", self.store, 0.0, "Nothing"))
        with self.assertRaises(ValidationError):
            self.Order._ru_create_for(line, "in", self.store, -5.0, "Negative")
        with self.assertRaisesRegex(UserError, "corresponding account"):
            self.Order.create_order({"store_id": self.store.id, "amount": 5.0, "basis": "No account"})
        with self.assertRaisesRegex(UserError, "keep their number"):
            order.unlink()
        order.action_cancel()
        self.assertEqual((order.state, order.name), ("cancelled", "1"))
        bare = self.env["stock.warehouse"].create({"name": "No cash store", "code": "NCS"})
        with self.assertRaisesRegex(UserError, "no cash account"):
            self.Order.create_order(
                {"store_id": bare.id, "amount": 5.0, "basis": "Store without cash", "account_id": transit.id}
            )

    # --- the cash book (KO-4) ---------------------------------------------------------------------------

    def book(self, date_from, date_to):
        return self.env["ru.cash.book.wizard"].create(
            {"store_id": self.store.id, "date_from": date_from, "date_to": date_to}
        )

    def test_cash_book_of_a_day(self):
        self.store.ru_cash_book_opening = 500.0
        self.record_z(30, "200.00", closed_at="2026-03-10T21:00:00")
        z_order = self.orders_of(self.record_z(31, "12345.67", closed_at="2026-03-11T21:00:00"))
        _line, out = self.cash_move("out", 1000.0, "Collection to the bank")
        cancelled = self.orders_of(self.record_z(32, "50.00", closed_at="2026-03-11T22:00:00"))
        cancelled.action_cancel()  # a cancelled order leaves the book

        [sheet] = self.book("2026-03-11", "2026-03-11")._ru_sheets()
        # Opening: 500.00 carried over + 200.00 of 10 March = 700.00; closing 700.00 + 12 345.67 − 1 000.00.
        self.assertEqual(sheet["number"], 2, "10 March was the year's first sheet")
        self.assertAlmostEqual(sheet["opening"], 700.0)
        self.assertEqual(sheet["orders"], z_order | out)
        self.assertAlmostEqual(sheet["total_in"], 12345.67)
        self.assertAlmostEqual(sheet["total_out"], 1000.0)
        self.assertAlmostEqual(sheet["closing"], 12045.67)
        self.assertAlmostEqual(sheet["closing"] - sheet["opening"], 11345.67)
        self.assertEqual((sheet["count_in"], sheet["count_out"]), (1, 1))

        first, second = self.book("2026-03-10", "2026-03-11")._ru_sheets()
        self.assertEqual((first["number"], first["opening"], first["closing"]), (1, 500.0, 700.0))
        self.assertAlmostEqual(second["opening"], first["closing"])

        html = self.render(
            "ru_accounting_extras.action_report_cash_book", self.book("2026-03-11", "2026-03-11")
        )
        self.assertIn("0310004", html)
        self.assertIn("Лист 2", html)
        self.assertIn("КАССА за 11.03.2026", html)
        for figures in ("700,00", f"12{NBSP}345,67", f"1{NBSP}000,00", f"12{NBSP}045,67"):
            self.assertIn(figures, html)
        self.assertNotIn("50,00", html)

        with self.assertRaisesRegex(UserError, "no posted cash orders"):
            self.book("2026-03-12", "2026-03-12").action_print()

    # --- the printed forms ------------------------------------------------------------------------------

    def render(self, report, records):
        """The report's HTML with white space collapsed as a browser shows it (the templates are formatted by
        Prettier, which breaks text and fields onto lines of their own)."""
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(report, records.ids)
        html = html.decode() if isinstance(html, bytes) else html
        return re.sub(r"[ \t\r\n]+", " ", html)  # not str.split(): the figures keep their no-break spaces

    def test_ko1_and_ko2_print_amounts_in_figures_and_words(self):
        self.assertEqual(rubles_in_words(12345.67), "Двенадцать тысяч триста сорок пять рублей 67 копеек")
        self.assertEqual(rubles_in_words(1000), "Одна тысяча рублей 00 копеек")
        self.assertEqual(rubles_in_words(21.01), "Двадцать один рубль 01 копейка")
        self.company.write({"ru_okpo": "12345678", "ru_chief_accountant_name": "Иванова А. П."})
        ko1 = self.orders_of(self.record_z(40, "12345.67"))
        _line, ko2 = self.cash_move("out", 1000.0, "Collection to the bank")

        html = self.render("ru_accounting_extras.action_report_cash_order", ko1)
        self.assertIn("ПРИХОДНЫЙ КАССОВЫЙ ОРДЕР", html)
        self.assertIn("КВИТАНЦИЯ", html)
        self.assertIn("0310001", html)
        self.assertIn("12345678", html)
        self.assertIn("Иванова А. П.", html)
        self.assertIn(f"12{NBSP}345,67", html)
        # The order and its receipt both say it in words.
        self.assertEqual(html.count("Двенадцать тысяч триста сорок пять рублей 67 копеек"), 2)
        self.assertIn("«11» марта 2026 г.", html)
        self.assertIn(self.store.ru_cash_account_id.code, html)
        self.assertIn("90.01.1", html)

        html = self.render("ru_accounting_extras.action_report_cash_order", ko2)
        self.assertIn("РАСХОДНЫЙ КАССОВЫЙ ОРДЕР", html)
        self.assertIn("0310002", html)
        self.assertIn(f"1{NBSP}000,00", html)
        self.assertIn("Одна тысяча рублей 00 копеек", html)
        self.assertNotIn("КВИТАНЦИЯ", html)

    # --- who sees what ---------------------------------------------------------------------------------

    def test_a_store_accountant_sees_the_orders_of_their_stores(self):
        other = self.env["stock.warehouse"].create({"name": "Other store", "code": "OTH"})
        other.action_ru_setup_cash()
        account = self.chart.ref("ru_acc_57_01")
        mine = self.orders_of(self.record_z(50, "10.00"))
        theirs = self.Order.create_order(
            {
                "store_id": other.id,
                "date": "2026-03-12",
                "amount": 20.0,
                "basis": "Other store's cash",
                "account_id": account.id,
            }
        )

        def user(login, group, stores):
            return self.env["res.users"].create(
                {
                    "name": login,
                    "login": login,
                    "company_id": self.company.id,
                    "company_ids": [(6, 0, self.company.ids)],
                    "groups_id": [(6, 0, [self.env.ref(group).id])],
                    "optics_store_ids": [(6, 0, stores.ids)],
                }
            )

        accountant = user("ko_store_accountant", "ru_accounting_extras.group_store_accountant", self.store)
        chief = user("ko_chief_accountant", "ru_accounting_extras.group_chief_accountant", self.store)
        both = mine | theirs
        self.assertEqual(self.Order.with_user(accountant).search([("id", "in", both.ids)]), mine)
        self.assertEqual(self.Order.with_user(chief).search([("id", "in", both.ids)]), both)
        with self.assertRaises(AccessError):
            theirs.with_user(accountant).read(["amount"])
        # They enter and post orders of their store, not of another store. Numbers are the company's:
        # 1 = the Z of 11 March here, 2 = the other store's order of 12 March, so this one is 3.
        vals = {
            "date": "2026-03-13",
            "amount": 30.0,
            "basis": "Change for the till",
            "account_id": account.id,
        }
        own = self.Order.with_user(accountant).create_order({**vals, "store_id": self.store.id})
        self.assertEqual((own.state, own.name), ("posted", "3"))
        with self.assertRaises(AccessError):
            self.Order.with_user(accountant).create({**vals, "store_id": other.id})
        # The accountant's cash book of the other store has no sheet: its orders are out of reach.
        book = (
            self.env["ru.cash.book.wizard"]
            .with_user(accountant)
            .create({"store_id": other.id, "date_from": theirs.date, "date_to": theirs.date})
        )
        self.assertEqual(book._ru_sheets(), [])
