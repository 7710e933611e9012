"""optics.fiscal.document: exactly once by database constraints, rejections, refunds, FN replacement."""

from unittest.mock import patch

import psycopg2

from odoo.tools import mute_logger

from ..models.fiscal_document import ConcurrentDelivery
from .common import FN_A, FN_B, TillCase, receipt


class TestFiscalDocument(TillCase):
    def test_a_receipt_is_created_once_and_its_repeat_is_a_duplicate(self):
        item = receipt(1)
        self.assertEqual(self.statuses(self.intake(item)), ["created"])
        self.assertEqual(self.statuses(self.intake(item, item)), ["duplicate", "duplicate"])
        doc = self.Doc.search([("receipt_id", "=", item["receipt_id"])])
        self.assertEqual(len(doc), 1)
        self.assertEqual((doc.fn_number, doc.fd, doc.total, doc.kind), (FN_A, 1, 940000, "sale"))
        self.assertEqual(doc.amount_total, 9400.0)
        self.assertEqual(doc.till_id, self.till)
        self.assertEqual(str(doc.issued_at), "2026-11-23 09:00:00")  # stored in UTC
        self.assertIn("14:00:00", doc.issued_at_local)  # the store is in Yekaterinburg (UTC+5)

    def test_a_repeat_is_a_duplicate_whatever_its_other_fields(self):
        item = receipt(2)
        self.intake(item)
        self.assertEqual(self.statuses(self.intake(dict(item, total=1))), ["duplicate"])
        self.assertEqual(self.Doc.search([("receipt_id", "=", item["receipt_id"])]).total, 940000)

    def test_conflicting_keys_are_rejected_with_the_owner_named(self):
        first = receipt(3)
        self.intake(first)
        same_id_other_fd = dict(first, fd=4)
        other_id_same_fd = receipt(3)
        results = self.intake(same_id_other_fd, other_id_same_fd)
        self.assertEqual(self.statuses(results), ["rejected", "rejected"])
        self.assertIn("was recorded with FN", results[0]["reason"])
        self.assertIn(first["receipt_id"], results[1]["reason"])
        self.assertEqual(self.Doc.search_count([("fn_number", "=", FN_A), ("fd", "in", (3, 4))]), 1)

    def test_one_invalid_receipt_never_fails_the_batch(self):
        good, bad, also_good = receipt(10), receipt(11, issued_at="2026-11-23T12:00:00"), receipt(12)
        results = self.intake(good, bad, also_good)
        self.assertEqual(self.statuses(results), ["created", "rejected", "created"])
        self.assertIn("UTC offset", results[1]["reason"])
        self.assertEqual(
            [r["receipt_id"] for r in results],
            [good["receipt_id"], bad["receipt_id"], also_good["receipt_id"]],
        )

    def test_field_rules(self):
        cases = [
            ({"receipt_id": "nope"}, "not a UUID"),
            ({"fn_number": "123"}, "16 digits"),
            ({"fd": 0}, "'fd'"),
            ({"fd": True}, "'fd'"),
            ({"fiscal_sign": 2**48}, "'fiscal_sign'"),
            ({"kind": "gift"}, "'kind'"),
            ({"total": -1}, "'total'"),
            ({"total": 10**13 + 1}, "'total'"),
            ({"hlc": "1.2"}, "'hlc'"),
            ({"document": []}, "'document'"),
            ({"fiscal_document_type": 2}, "'fiscal_document_type'"),
            ({"kind": "refund"}, "original receipt"),
        ]
        for fd, (override, reason) in enumerate(cases, start=100):
            with self.subTest(override=override):
                [result] = self.intake({**receipt(fd), **override})
                self.assertEqual(result["status"], "rejected")
                self.assertIn(reason, result["reason"])
        self.assertFalse(self.Doc.search([("till_id", "=", self.till.id), ("fd", ">=", 100)]))

    def test_the_largest_ffd_values_fit(self):
        item = receipt(2**32 - 1, fiscal_sign=2**48 - 1, total=10**13, fiscal_document_type=31)
        self.assertEqual(self.statuses(self.intake(item)), ["created"])
        doc = self.Doc.search([("receipt_id", "=", item["receipt_id"])])
        self.assertEqual((doc.fd, doc.fiscal_sign, doc.total), (2**32 - 1, 2**48 - 1, 10**13))
        self.assertEqual(doc.fiscal_document_type, "31")

    def test_refunds_name_a_recorded_sale_which_becomes_refunded(self):
        sale = receipt(20)
        refund = receipt(21, kind="refund", original_receipt_id=sale["receipt_id"], total=100)
        self.assertEqual(
            self.statuses(self.intake(sale, refund)), ["created", "created"]
        )  # one batch, in order
        doc = self.Doc.search([("receipt_id", "=", sale["receipt_id"])])
        self.assertEqual(doc.state, "refunded")
        self.assertEqual(doc.refund_ids.receipt_id, refund["receipt_id"])
        unknown = receipt(22, kind="refund", original_receipt_id="0f8fad5b-d9cb-469f-a165-70867728950e")
        of_refund = receipt(23, kind="refund", original_receipt_id=refund["receipt_id"])
        results = self.intake(unknown, of_refund)
        self.assertEqual(self.statuses(results), ["rejected", "rejected"])
        self.assertIn("never received", results[0]["reason"])
        self.assertIn("itself a refund", results[1]["reason"])

    def test_an_fn_replaced_under_the_same_till_restarts_fd_numbers(self):
        old = [receipt(fd, fn=FN_A) for fd in (1, 2)]
        self.intake(*old)
        new = [receipt(fd, fn=FN_B) for fd in (1, 2)]
        self.assertEqual(self.statuses(self.intake(*new)), ["created", "created"])
        docs = self.Doc.search([("till_id", "=", self.till.id)])
        self.assertEqual(
            sorted((d.fn_number, d.fd) for d in docs), [(FN_A, 1), (FN_A, 2), (FN_B, 1), (FN_B, 2)]
        )
        self.assertEqual(self.statuses(self.intake(*old)), ["duplicate", "duplicate"])  # the old FN's stay

    @mute_logger("odoo.sql_db")
    def test_the_database_enforces_both_keys(self):
        [result] = self.intake(receipt(30))
        doc = self.Doc.search([("receipt_id", "=", result["receipt_id"])])
        values = {
            "till_id": self.till.id, "fn_number": FN_A, "fiscal_sign": 1, "kind": "sale", "total": 1,
            "issued_at": "2026-11-23 09:00:00", "hlc": "001795470000000.00001",
        }  # fmt: skip
        for clash in ({"receipt_id": doc.receipt_id, "fd": 31}, {"receipt_id": "another", "fd": 30}):
            with (
                self.subTest(clash=clash),
                self.assertRaises(psycopg2.errors.UniqueViolation),
                self.env.cr.savepoint(),
            ):
                self.Doc.create(dict(values, **clash))

    @mute_logger("odoo.addons.optics_pos_ru54fz.models.fiscal_document")
    def test_a_key_recorded_by_a_concurrent_request_makes_odoo_retry(self):
        item = receipt(40)
        self.intake(item)
        # As if another worker had committed it after this request's snapshot: our lookup misses it.
        with (
            patch.object(type(self.Doc), "_judge", return_value="created"),
            self.assertRaises(ConcurrentDelivery) as caught,
        ):
            self.Doc._intake(self.till, [item])
        self.assertEqual(caught.exception.pgcode, "40001")  # odoo.service.model.retrying retries on it
        self.assertEqual(self.Doc.search_count([("receipt_id", "=", item["receipt_id"])]), 1)
