"""Glasses jobs through two real tills (tests/till.py): the advance at till A (1214 = 2 with the calculated
VAT rate), the pickup by the job label's barcode at till B (1214 = 4, the 1215 offset plus the balance), a
second pickup with Odoo unreachable, and the refund of a cancelled job's advance. The verdicts come from the
emulated FNs' journals, from the documents the tills delivered (handed to Odoo's receiver exactly as they
arrived) and from Odoo's job and orders."""

from datetime import date, timedelta

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon
from odoo.tests import tagged
from odoo.tests.common import HOST
from odoo.tools import config

from .quiet_http import QuietAfterBrowser
from .till import Till

TILL_A, TILL_B = "store-a-till", "store-b-till"
ADVANCE = 400000  # kopecks: 4 000.00 of 10 500.00
TOTAL = 1050000


def tags_of(entry):
    return {tlv["tag"]: tlv.get("value") for tlv in entry.get("tlvs", [])}


@tagged("post_install", "-at_install")
class TestJobTour(QuietAfterBrowser, TestPointOfSaleHttpCommon):
    browser_size = "1920,1080"  # the desktop POS layout (see test_pos_fiscal.py)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        origin = f"http://{HOST}:{config['http_port']}"
        env = cls.env
        Till_ = env["pos.offline.buffer.status"]
        cls.till_a = Till(origin, pos_id=TILL_A, deliver=True)
        cls.addClassCleanup(cls.till_a.stop)
        cls.till_b = Till(origin, pos_id=TILL_B, deliver=True)
        cls.addClassCleanup(cls.till_b.stop)
        config_ = cls.main_pos_config
        cls.record_a = Till_.create({"name": "Store A till", "pos_id": TILL_A, "pos_config_id": config_.id})
        cls.record_b = Till_.create({"name": "Store B till", "pos_id": TILL_B})
        exempt = env["account.tax"].create(
            {"name": "Job VAT exempt", "amount": 0, "optics_ffd_vat_code": "6", "price_include": True}
        )
        vat22 = env["account.tax"].create(
            {"name": "Job VAT 22%", "amount": 22, "optics_ffd_vat_code": "11", "price_include": True}
        )
        Product = env["product.product"]
        for name, price, tax in (
            ("Tour Lens", 3000.0, exempt),
            ("Tour Job Frame", 4000.0, exempt),
            ("Tour Job Case", 500.0, vat22),
        ):
            Product.create({"name": name, "available_in_pos": True, "list_price": price, "taxes_id": tax.ids})
        cls.patient = env["res.partner"].create({"name": "Tour Patient", "optics_consent_date": date.today()})
        store = config_.picking_type_id.warehouse_id
        # Health data and the lens catalogue: the opticians' and managers' (the set-up user is neither).
        env["optics.prescription"].sudo().create(
            {
                "partner_id": cls.patient.id,
                "store_id": store.id,
                "prescriber": "Петров А. А.",
                "od_sph": -2.0,
                "os_sph": -2.25,
                "pd": 63,
            }
        )
        env["optics.lens"].sudo().create({"name": "Tour SV 1.6", "sph_min": -8, "sph_max": 6, "cyl_min": -4})
        cash = config_.payment_method_ids.filtered("is_cash_count")[:1]
        bank = env["pos.payment.method"].create({"name": "Bank", "journal_id": cls.bank_journal.id})
        offset = env["pos.payment.method"].create(
            {"name": "Prepayment offset", "optics_prepayment_offset": True, "split_transactions": True}
        )
        config_.write(
            {
                "optics_fiscal": True,
                "optics_adapter_url": cls.till_a.url,
                "payment_method_ids": [(6, 0, (cash | bank | offset).ids)],
                "iface_print_auto": False,
            }
        )
        cls.pos_user.write(
            {
                "groups_id": [(4, env.ref("optics_core.group_optician").id)],
                "optics_store_ids": [(6, 0, store.ids)],
            }
        )

    def use_till(self, record, till):
        """The POS now fiscalizes through ``till`` (another till: another FN, another journal)."""
        (self.record_a | self.record_b).pos_config_id = False
        record.pos_config_id = self.main_pos_config
        self.main_pos_config.optics_adapter_url = till.url

    def run_tour(self, tour, job=None):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        url = f"/pos/ui?config_id={self.main_pos_config.id}"
        if job:
            url += f"&optics_job={job.name}"
        self.start_tour(url, tour, login="pos_user")

    def deliver(self, till, record):
        """Hand what the till delivered to Odoo's receiver, twice: each document is recorded once."""
        till.wait_delivered()
        receipts = till.command("odoo receipts")["receipts"]
        Doc = self.env["optics.fiscal.document"].sudo()
        # The tour's browser may still have a request in flight (an image the last screen asked for) that
        # the HTTP thread serves on this same test cursor; the registry's test lock serialises it with the
        # intake's savepoints (without it a late request once rolled a savepoint away under load).
        with self.registry.test_lock:
            first = [r["status"] for r in Doc._intake(record, receipts)]
            again = [r["status"] for r in Doc._intake(record, receipts)]
        self.assertNotIn("rejected", first, first)
        self.assertEqual(set(again), {"duplicate"})
        return receipts

    def take_advance(self):
        Job = self.env["optics.manufacturing.order"].sudo()  # the test's user is no optician
        before = Job.search([])
        count = len(self.till_a.receipts())
        self.use_till(self.record_a, self.till_a)
        self.run_tour("optics_job_advance")
        job = Job.search([]) - before
        self.assertEqual(len(job), 1, "the tour created one job")
        self.assertEqual(job.state, "confirmed")
        self.assertEqual(job.amount_total, TOTAL / 100)
        receipts = self.till_a.receipts()
        self.assertEqual(len(receipts), count + 1, "exactly one advance receipt signed by FN A")
        doc = receipts[-1]
        self.assertEqual(doc["total"], ADVANCE)
        self.assertEqual(
            {item["payment_method"] for item in doc["items"]}, {2}, "1214 = 2: partial prepayment"
        )
        # The advance at the calculated rates: 10 000.00 exempt (6), 500.00 at 22 % → 22/122 (12).
        by_vat = {item["vat"]: item["amount"] for item in doc["items"]}
        self.assertEqual(sum(by_vat.values()), ADVANCE)
        self.assertEqual(set(by_vat), {6, 12})
        self.assertEqual(by_vat[12], round(ADVANCE * 500 / 10500))
        self.assertEqual(tags_of(doc).get(1192), job.name)
        self.deliver(self.till_a, self.record_a)
        self.assertEqual(job.amount_advance, ADVANCE / 100)
        job.write({"lab_id": self.patient.id, "promised_date": date.today() + timedelta(days=3)})
        job.action_start_production()
        job.action_ready()
        return job

    def assert_pickup(self, job, receipts_before):
        receipts = self.till_b.receipts()
        self.assertEqual(len(receipts), receipts_before + 1, "exactly one pickup receipt signed by FN B")
        doc = receipts[-1]
        self.assertEqual(doc["total"], TOTAL)
        self.assertEqual({item["payment_method"] for item in doc["items"]}, {4}, "1214 = 4: full settlement")
        self.assertEqual(doc["payments"]["prepayment"], ADVANCE, "the 1215 offset")
        self.assertEqual(doc["payments"]["cash"] - doc["change"], TOTAL - ADVANCE)
        self.assertEqual(tags_of(doc).get(1192), job.name)
        delivered = self.deliver(self.till_b, self.record_b)
        self.assertEqual([r["prepayment"] for r in delivered if r["job_ref"] == job.name], [ADVANCE])
        self.assertEqual(job.state, "delivered")
        self.assertEqual(job.amount_balance, 0.0)
        self.assertFalse(job.offset_problem)
        docs = self.env["optics.fiscal.document"].sudo().search([("job_id", "=", job.id)])
        self.assertEqual(len(docs), 2, "the advance and the pickup, each once")
        orders = self.env["pos.order"].search([("optics_job_ref", "=", job.name)])
        self.assertEqual(len(orders), 2, "the advance's and the pickup's POS orders, each once")

    def test_1_advance_at_till_a_pickup_by_barcode_at_till_b(self):
        job = self.take_advance()
        before = len(self.till_b.receipts())
        self.use_till(self.record_b, self.till_b)
        self.run_tour("optics_job_pickup", job)
        self.assert_pickup(job, before)

    def test_2_pickup_with_odoo_unreachable(self):
        job = self.take_advance()
        before = len(self.till_b.receipts())
        self.use_till(self.record_b, self.till_b)
        self.run_tour("optics_job_pickup_offline", job)
        self.assert_pickup(job, before)

    def test_3_a_cancelled_job_refunds_its_advance_as_it_was_taken(self):
        job = self.take_advance()
        job.action_cancel()
        self.assertEqual(job.amount_balance, -ADVANCE / 100, "the advance is owed back")
        advance = self.till_a.receipts()[-1]
        self.run_tour("optics_job_refund_advance")
        refund = self.till_a.receipts()[-1]
        self.assertEqual(refund["settlement"], 2, "a sale return (1054 = 2)")
        self.assertEqual(refund["total"], ADVANCE)
        self.assertEqual(
            sorted((i["vat"], i["payment_method"], i["amount"]) for i in refund["items"]),
            sorted((i["vat"], i["payment_method"], i["amount"]) for i in advance["items"]),
            "refunded with the advance's own VAT and 1214",
        )
        self.assertEqual(tags_of(refund).get(1192), job.name)
        self.deliver(self.till_a, self.record_a)
        self.assertEqual(job.amount_advance, 0.0)
        self.assertEqual(job.amount_balance, 0.0)
