"""The cashier's POS fiscalizes through a real till: tours in Chromium against the KKT emulator and the
adapter started here (tests/till.py); every verdict is read from the emulated FN's journal and from Odoo's
orders, not only from the screen (a tour that did not run would leave both untouched)."""

import contextlib
import json
import queue
import threading

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon
from odoo.tests import tagged
from odoo.tests.common import HOST
from odoo.tools import config

from .chrome_tab import ChromeTab
from .quiet_http import QuietAfterBrowser
from .till import Till

CASHIER_INN = "500100732259"
POS_ID = "tour-till"
SHIFT_CLOSE = 5  # FN document type of the shift-close (Z) report
OTHER_TAB_TOUR = "optics_pos_fiscal_other_tab"
FD_ON_SCREEN = "document.querySelector('.receipt-screen .optics-fiscal .optics-fd')?.textContent.trim()"


@tagged("post_install", "-at_install")
class TestPosFiscal(QuietAfterBrowser, TestPointOfSaleHttpCommon):
    # A till's screen: the desktop POS layout (numpad, payment methods). Chromium 156 reads only "W,H"
    # (Odoo's default "1366x768" leaves it at 800x600, the phone layout).
    browser_size = "1920,1080"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.origin = origin = f"http://{HOST}:{config['http_port']}"
        env = cls.env
        env["pos.offline.buffer.status"].create(
            {"name": "Tour till", "pos_id": POS_ID, "pos_config_id": cls.main_pos_config.id}
        )
        # The till delivers to stand-ins (a refund needs its sale delivered to the OFD and Odoo).
        # No skip when the till cannot start: a skipped tour proves nothing (TillUnavailable says why).
        cls.till = Till(origin, pos_id=POS_ID, deliver=True)
        cls.addClassCleanup(cls.till.stop)
        exempt = env["account.tax"].create(
            {"name": "Tour VAT exempt", "amount": 0, "optics_ffd_vat_code": "6", "price_include": True}
        )
        vat22 = env["account.tax"].create(
            {"name": "Tour VAT 22%", "amount": 22, "optics_ffd_vat_code": "11", "price_include": True}
        )
        cls.frame = env["product.product"].create(
            {
                "name": "Tour Frame",
                "available_in_pos": True,
                "list_price": 85.0,
                "taxes_id": [(6, 0, exempt.ids)],
            }
        )
        cls.case = env["product.product"].create(
            {
                "name": "Tour Case",
                "available_in_pos": True,
                "list_price": 4.5,
                "taxes_id": [(6, 0, vat22.ids)],
            }
        )
        cash = cls.main_pos_config.payment_method_ids.filtered("is_cash_count")[:1]
        bank = env["pos.payment.method"].create({"name": "Bank", "journal_id": cls.bank_journal.id})
        cls.main_pos_config.write(
            {
                "optics_fiscal": True,
                "optics_adapter_url": cls.till.url,
                "payment_method_ids": [(6, 0, (cash | bank).ids)],
                "iface_print_auto": False,
            }
        )
        cls.pos_user.optics_inn = CASHIER_INN

    def sell(self, tour, **kwargs):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_tour(f"/pos/ui?config_id={self.main_pos_config.id}", tour, login="pos_user", **kwargs)
        return self.env["pos.order"].search([("config_id", "=", self.main_pos_config.id)], order="id desc")

    def authenticate(self, user, password, browser=None):
        # Odoo 17 keeps the tour's browser local to browser_js; a test that opens a second tab in it
        # listens here (``tour_browsers``: a queue) for the browser being logged in.
        listener = getattr(self, "tour_browsers", None)
        if browser is not None and listener is not None:
            listener.put(browser)
        return super().authenticate(user, password, browser=browser)

    def assert_split_sale(self, doc):
        self.assertEqual(doc["total"], 9400)
        self.assertEqual((doc["payments"]["electronic"], doc["payments"]["cash"]), (5000, 4400))
        tags = {tlv["tag"]: tlv.get("value") for tlv in doc["tlvs"]}
        self.assertEqual(tags.get(1021), "A simple PoS man!")
        self.assertEqual(tags.get(1203), CASHIER_INN)
        names = [item["name"] for item in doc["items"]]
        self.assertEqual(names, ["Tour Frame", "Tour Case"])

    def test_1_online_sale_split_payment_with_cashier(self):
        before = len(self.till.receipts())
        orders = self.sell("optics_pos_fiscal_sale")
        receipts = self.till.receipts()
        self.assertEqual(len(receipts), before + 1, "exactly one receipt signed by the FN")
        doc = receipts[-1]
        self.assert_split_sale(doc)
        order = orders[0]
        self.assertEqual(order.state, "paid")
        self.assertEqual(order.fiscal_status, "printed")
        self.assertEqual((order.fiscal_fn_number, order.fiscal_fd_number), (doc["fn_number"], doc["fd"]))
        self.assertEqual(order.fiscal_sign, doc["fp"])
        self.assertIn(f"&i={doc['fd']}&fp={doc['fp']}&n=1", order.fiscal_qr)

    def test_2_kkt_down_buffered_then_printed(self):
        before = len(self.till.receipts())
        self.till.control("silent", on=True)
        try:
            orders = self.sell("optics_pos_fiscal_buffered")
            self.assertEqual(len(self.till.receipts()), before, "nothing signed while the KKT is down")
        finally:
            self.till.control("silent", on=False)
        order = orders[0]
        self.assertEqual((order.state, order.fiscal_status), ("paid", "buffered"))
        receipts = self.till.wait_receipts(before + 1)
        self.assertEqual(len(receipts), before + 1)
        self.assert_split_sale(receipts[-1])

    def test_3_adapter_unreachable_then_retry_prints_once(self):
        before = len(self.till.receipts())
        self.till.command("adapter down")
        errors = []

        def bring_back():
            try:
                self.till.command("adapter wait /v1/kkt/receipt 120", timeout=130)
                self.till.command("adapter up")
            except Exception as exc:  # noqa: BLE001 - reported by the test below
                errors.append(exc)

        helper = threading.Thread(target=bring_back, daemon=True)
        helper.start()
        try:
            orders = self.sell("optics_pos_fiscal_unreachable")
        finally:
            helper.join(130)
        self.assertFalse(errors, errors)
        receipts = self.till.receipts()
        self.assertEqual(len(receipts), before + 1, "the retry printed exactly one receipt")
        self.assertEqual(orders[0].fiscal_fd_number, receipts[-1]["fd"])
        self.assertEqual(len(orders.filtered(lambda o: o.access_token == orders[0].access_token)), 1)

    def test_4_refund_names_the_sale(self):
        orders = self.sell("optics_pos_fiscal_sale")
        sale = orders[0]
        self.till.wait_delivered()
        refund_orders = self.sell("optics_pos_fiscal_refund")
        refund = refund_orders[0]
        self.assertNotEqual(refund, sale)
        docs = self.till.receipts()
        self.assertEqual(docs[-1]["settlement"], 2, "the last FN document is a sale return")
        self.assertEqual(docs[-1]["total"], 8500)
        self.assertEqual(refund.fiscal_status, "printed")
        self.assertEqual(refund.fiscal_fd_number, docs[-1]["fd"])
        self.assertIn("&n=2", refund.fiscal_qr)

    def test_5_correction_receipt_by_a_manager(self):
        before = len(self.till.receipts())
        self.main_pos_config.with_user(self.pos_admin).open_ui()
        self.start_tour(
            f"/pos/ui?config_id={self.main_pos_config.id}", "optics_pos_fiscal_correction", login="pos_admin"
        )
        receipts = self.till.receipts()
        self.assertEqual(len(receipts), before + 1)
        tags = {tlv["tag"]: tlv.get("value") for tlv in receipts[-1]["tlvs"]}
        self.assertEqual(tags.get(1173), 0, "a correction on own initiative")
        self.assertEqual(receipts[-1]["total"], 3200)

    def test_6_cash_in_and_out_on_the_kkt_and_the_session(self):
        self.pos_user.groups_id += self.env.ref("account.group_account_invoice")  # Odoo's cash move right
        self.sell("optics_pos_fiscal_cash")
        moves = self.till.control("cash_journal")
        self.assertEqual(
            [(m["kind"], m["amount"]) for m in moves[-2:]], [("cash_in", 50000), ("cash_out", 12000)]
        )
        session = self.main_pos_config.current_session_id
        lines = self.env["account.bank.statement.line"].search([("pos_session_id", "=", session.id)])
        self.assertEqual(sorted(lines.mapped("amount")), [-120.0, 500.0])
        self.assertTrue(all("KKT document" in ref for ref in lines.mapped("payment_ref")))

    def test_7_shift_x_and_z_with_odoo_unreachable(self):
        self.sell("optics_pos_fiscal_shift_offline")
        closes = [doc for doc in self.till.journal() if doc.get("type") == SHIFT_CLOSE]
        self.assertTrue(closes, "the FN signed a shift-close report")
        report = self.env["optics.pos.shift.report"].search([("pos_id", "=", POS_ID)], limit=1)
        self.assertTrue(report, "the Z report reached Odoo once it was reachable")
        self.assertEqual(report.fd_number, closes[-1]["fd"])

    def test_8_buffer_full_blocks_sales(self):
        full = Till(self.origin, pos_id=POS_ID, capacity=1)
        try:
            self.main_pos_config.optics_adapter_url = full.url
            paid_before = self.sell("optics_pos_fiscal_sale").filtered(lambda o: o.state == "paid")
            paid_after = self.sell("optics_pos_fiscal_buffer_full").filtered(lambda o: o.state == "paid")
            self.assertEqual(len(full.receipts()), 1, "the second sale was refused, not printed")
            self.assertEqual(paid_after, paid_before, "the refused sale is not paid")
        finally:
            self.main_pos_config.optics_adapter_url = self.till.url
            full.stop()

    def test_9_two_tabs_one_document(self):
        """A second POS tab in the same browser (same localStorage) holds the same unpaid order: both tabs
        validate it at the same moment, then — the next sale — one after the other. Each sale is one FN
        document and one Odoo order, and both receipt screens show that document."""
        before = len(self.till.receipts())
        # The FN signs at once, the KKT answers 3 s later: the second tab's request reaches the adapter
        # while the first one's is still in flight.
        self.till.control("fault", name="slow", command="FF45", seconds=3)
        self.tour_browsers = queue.Queue()
        seen = {}
        url = f"{self.origin}/pos/ui?config_id={self.main_pos_config.id}"
        driver = threading.Thread(target=self.drive_other_tab, args=(url, seen), daemon=True)
        driver.start()
        try:
            self.sell("optics_pos_fiscal_two_tabs", timeout=120)
        finally:
            driver.join(30)
            self.till.control("clear")
        self.assertFalse(driver.is_alive(), "the second tab's driver finished")
        self.assertNotIn("error", seen)
        self.assertEqual(set(seen), {"at_once", "in_turn"}, "the second tab validated both sales")
        receipts = self.till.receipts()
        self.assertEqual(len(receipts), before + 2, "one FN document per sale, not one per tab")
        for phase, doc in zip(("at_once", "in_turn"), receipts[-2:], strict=True):
            tabs = seen[phase]
            key = tabs["keys"][0]
            self.assertEqual(tabs["keys"], [key, key], f"{phase}: both tabs held the same order")
            self.assertEqual(tabs["fd"], [str(doc["fd"])] * 2, f"{phase}: both screens show the FN document")
            self.assertEqual([call["status"] for call in tabs["calls"]], [200, 200], phase)
            self.assert_split_sale(doc)
            order = self.env["pos.order"].search([("access_token", "=", key)])
            self.assertEqual(len(order), 1, f"{phase}: one Odoo order")
            self.assertEqual((order.state, order.fiscal_status), ("paid", "printed"))
            fiscal = (order.fiscal_fn_number, order.fiscal_fd_number, order.fiscal_sign)
            self.assertEqual(fiscal, (doc["fn_number"], doc["fd"], doc["fp"]))
        orders = self.env["pos.order"].search([("config_id", "=", self.main_pos_config.id)])
        self.assertEqual(len(orders), 2, "no sale recorded twice under another key")
        first, other = seen["at_once"]["calls"]
        self.assertLess(
            max(first["start"], other["start"]),
            min(first["end"], other["end"]),
            "both tabs' requests were at the till at the same time",
        )
        first, other = seen["in_turn"]["calls"]
        self.assertGreater(
            other["start"], first["end"], "the second tab asked after the first had its answer"
        )

    def drive_other_tab(self, url, seen):
        """The second tab of test_9, in a thread while the first tab's tour runs: for each sale, wait until
        the first tab has the order on its payment screen, (re)load the POS in the second tab and run
        OTHER_TAB_TOUR there, give both tabs the go, and record what each tab saw. A failure is reported in
        the first tab's console, which fails its tour at once."""
        first = other = None
        try:
            port = self.tour_browsers.get(timeout=60).devtools_port
            first = ChromeTab.attach(port, "/pos/ui")
            other = ChromeTab.open(port, *map(int, self.browser_size.split(",")))
            for phase in ("at_once", "in_turn"):
                first.wait_for(
                    f"document.body.dataset.opticsTab === '{phase}:ready'", 60, f"{phase}: first tab"
                )
                other.navigate(url)
                other.start_tour(OTHER_TAB_TOUR)
                other.wait_for("document.body.dataset.opticsTab === 'ready'", 60, f"{phase}: second tab")
                go(first, phase)
                if phase == "in_turn":
                    first.wait_for(
                        f"document.body.dataset.opticsTab === '{phase}:done'", 60, f"{phase}: first"
                    )
                go(other, "now")
                other.wait_tour_end(OTHER_TAB_TOUR, 60)
                first.wait_for(f"document.body.dataset.opticsTab === '{phase}:done'", 60, f"{phase}: first")
                tabs = (first, other)
                seen[phase] = {
                    "keys": [tab.evaluate("document.body.dataset.opticsOrder") for tab in tabs],
                    "fd": [tab.evaluate(FD_ON_SCREEN) for tab in tabs],
                    "calls": [tab.evaluate("window.__opticsTill.at(-1)") for tab in tabs],
                }
                if phase == "in_turn":
                    other.close_page()
                    other = None
                go(first, f"{phase}:over")
        except Exception as exc:  # noqa: BLE001 - reported through the first tab and asserted by the test
            seen["error"] = exc
            # Best effort: the screens for the record, then the first tab's tour fails with the reason.
            for name, tab in (("first", first), ("other", other)):
                with contextlib.suppress(Exception):
                    tab.screenshot(type(self).__name__, f"two_tabs_{name}_")
            with contextlib.suppress(Exception):
                first.evaluate(f"console.error({json.dumps(f'second tab: {exc}')})")
        finally:
            for tab in (first, other):
                if tab is not None:
                    tab.close()


def go(tab, signal):
    """The test's go to a tab waiting in its tour (pos_fiscal_tours.js waitForTest)."""
    tab.evaluate(f"document.body.dataset.opticsGo = {json.dumps(signal)}")
