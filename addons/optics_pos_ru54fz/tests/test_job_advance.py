"""Glasses jobs paid through the tills: advances summed over every till, the pickup receipt delivering the
job with balance 0, offsets that differ from the advances flagged (in either arrival order), the refund of a
cancelled job's advance, and the contract's rules for job_ref and prepayment."""

import uuid
from datetime import date, timedelta

from .common import FN_A, FN_B, TillCase, receipt


def advance_doc(fd, job, roubles, fn=FN_A, method=2, **overrides):
    """An advance receipt of ``job`` as a till sends it: one item with 1214 = ``method``."""
    kopecks = round(roubles * 100)
    return receipt(
        fd,
        fn=fn,
        total=kopecks,
        job_ref=job.name,
        document={
            "type": "sale",
            "job_ref": job.name,
            "items": [
                {"name": f"Предоплата {job.name}", "price": roubles, "vat": 12, "payment_method": method}
            ],
            "payments": [{"method": "card", "amount": roubles}],
        },
        **overrides,
    )


def pickup_doc(fd, job, offset, fn=FN_B):
    """The pickup receipt: the job's lines with 1214 = 4, paid with the 1215 offset plus the balance."""
    total = round(job.amount_total * 100)
    return receipt(
        fd,
        fn=fn,
        total=total,
        job_ref=job.name,
        prepayment=round(offset * 100),
        document={
            "type": "sale",
            "job_ref": job.name,
            "items": [
                {"name": line.name, "price": line.price_unit, "quantity": line.quantity, "vat": 6}
                for line in job.line_ids
            ],
            "payments": [
                {"method": "prepayment", "amount": offset},
                {"method": "cash", "amount": job.amount_total - offset},
            ],
        },
    )


class TestJobAdvance(TillCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.patient = env["res.partner"].create(
            {"name": "Смирнова Анна", "optics_consent_date": date.today()}
        )
        store = env["stock.warehouse"].search([], limit=1)
        rx = env["optics.prescription"].create(
            {
                "partner_id": cls.patient.id,
                "store_id": store.id,
                "prescriber": "Петров А. А.",
                "od_sph": -1.5,
                "os_sph": -1.75,
                "pd": 63,
            }
        )
        lens = env["optics.lens"].create(
            {"name": "SV", "sph_min": -8, "sph_max": 6, "cyl_min": -4, "cyl_max": 0}
        )
        product = env["product.product"].create({"name": "Очки на заказ", "lst_price": 10000.0})
        cls.job = env["optics.manufacturing.order"].create(
            {
                "partner_id": cls.patient.id,
                "store_id": store.id,
                "prescription_id": rx.id,
                "lens_id": lens.id,
                "line_ids": [(0, 0, {"product_id": product.id})],
            }
        )
        cls.job.action_confirm()
        cls.job.write({"lab_id": cls.patient.id, "promised_date": date.today() + timedelta(days=3)})
        cls.job.action_start_production()

    def test_advances_from_two_tills_add_up_and_the_pickup_delivers_with_balance_zero(self):
        job = self.job
        self.assertEqual(self.statuses(self.intake(advance_doc(1, job, 3000))), ["created"])
        self.assertEqual(
            self.statuses(self.intake(advance_doc(1, job, 1000.50, fn=FN_B), till=self.other)), ["created"]
        )
        self.assertEqual(job.amount_advance, 4000.50)
        self.assertEqual(job.amount_balance, 5999.50)
        job.action_ready()
        pickup = pickup_doc(2, job, 4000.50)
        self.assertEqual(self.statuses(self.intake(pickup, pickup)), ["created", "duplicate"])
        self.assertEqual(job.state, "delivered")
        self.assertEqual(job.amount_settled, 5999.50)
        self.assertEqual(job.amount_balance, 0.0)
        self.assertFalse(job.offset_problem)
        self.assertEqual(len(job.fiscal_document_ids), 3)

    def test_an_offset_that_differs_from_the_advances_is_flagged_until_they_agree(self):
        job = self.job
        job.action_ready()
        # The pickup at store B arrives first; store A's till was offline when it took the advance.
        self.intake(pickup_doc(5, job, 2500), till=self.other)
        doc = job.fiscal_document_ids
        self.assertEqual(job.state, "delivered")
        self.assertTrue(job.offset_problem)
        self.assertIn("2500.00", doc.job_problem)
        self.assertIn("0.00", doc.job_problem)
        self.intake(advance_doc(6, job, 2500))
        self.assertFalse(doc.job_problem)
        self.assertFalse(job.offset_problem)
        self.assertEqual(job.amount_balance, 0.0)
        self.intake(advance_doc(7, job, 100))  # an advance beyond what the pickup offset
        self.assertTrue(doc.job_problem)
        self.assertTrue(job.offset_problem)

    def test_a_cancelled_job_owes_its_advance_until_the_refund_receipt_arrives(self):
        job = self.job
        sale = advance_doc(10, job, 2000, method=2)
        self.intake(sale)
        job.action_cancel()
        self.assertEqual(job.amount_balance, -2000.0)
        self.assertIn("refund", job.message_ids[0].body)
        refund = advance_doc(11, job, 2000, kind="refund", original_receipt_id=sale["receipt_id"])
        refund["document"]["type"] = "refund"
        self.assertEqual(self.statuses(self.intake(refund)), ["created"])
        self.assertEqual(job.amount_advance, 0.0)
        self.assertEqual(job.amount_balance, 0.0)
        self.assertEqual(self.Doc.search([("receipt_id", "=", sale["receipt_id"])]).state, "refunded")

    def test_a_receipt_for_an_unknown_job_is_kept_and_flagged(self):
        item = advance_doc(20, self.job, 500)
        item["job_ref"] = "GJ-99-99999"
        self.assertEqual(self.statuses(self.intake(item)), ["created"])
        doc = self.Doc.search([("receipt_id", "=", item["receipt_id"])])
        self.assertFalse(doc.job_id)
        self.assertIn("GJ-99-99999", doc.job_problem)

    def test_contract_rules_for_job_ref_and_prepayment(self):
        cases = [
            ({"job_ref": ""}, "'job_ref'"),
            ({"job_ref": "X" * 17}, "'job_ref'"),
            ({"prepayment": -1}, "'prepayment'"),
            ({"prepayment": 940001}, "'prepayment'"),
            ({"prepayment": 100}, "job_ref"),
            (
                {
                    "prepayment": 100,
                    "job_ref": "GJ-1",
                    "kind": "refund",
                    "original_receipt_id": str(uuid.uuid4()),
                },
                "belongs on a sale",
            ),
        ]
        for fd, (override, reason) in enumerate(cases, start=200):
            with self.subTest(override=override):
                [result] = self.intake({**receipt(fd), **override})
                self.assertEqual(result["status"], "rejected")
                self.assertIn(reason, result["reason"])
