"""The till API through Odoo's HTTP stack: tokens, problem documents (Odoo's own 404/405/413 too), batches."""

import json

from odoo.tests import HttpCase, tagged

from .common import FN_A, receipt

API = "/optics_pos_ru54fz/v1"
PROBLEM = "application/problem+json"


@tagged("post_install", "-at_install")
class TestTillApi(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Till = cls.env["pos.offline.buffer.status"]
        cls.till = Till.create({"name": "Store 1, till 1", "pos_id": "store1-till1"})
        cls.other = Till.create({"name": "Store 2, till 1", "pos_id": "store2-till1"})
        cls.token = cls.till._issue_token()
        cls.other_token = cls.other._issue_token()

    def post(self, path, body, token=None, raw=None, headers=None):
        headers = {"Content-Type": "application/json", **(headers or {})}
        if token is not False:
            headers["Authorization"] = f"Bearer {token or self.token}"
        data = raw if raw is not None else json.dumps(body)
        return self.url_open(f"{API}/{path}", data=data, headers=headers, timeout=30)

    def assertProblem(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text[:500])
        self.assertEqual(response.headers["Content-Type"].split(";")[0], PROBLEM)
        body = response.json()
        self.assertEqual((body["status"], body["code"]), (status, code))
        self.assertTrue(body["detail"])
        return body

    def test_receipts_created_then_duplicate(self):
        items = [receipt(1), receipt(2, kind="correction", fiscal_document_type=31)]
        response = self.post("receipts", {"pos_id": "store1-till1", "receipts": items})
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        self.assertIsInstance(body["server_time_ms"], int)
        self.assertEqual([r["status"] for r in body["results"]], ["created", "created"])
        again = self.post("receipts", {"pos_id": "store1-till1", "receipts": items}).json()
        self.assertEqual([(r["status"], r["reason"]) for r in again["results"]], [("duplicate", None)] * 2)
        docs = self.env["optics.fiscal.document"].search([("till_id", "=", self.till.id)])
        self.assertEqual(sorted(docs.mapped("fd")), [1, 2])
        self.assertEqual(set(docs.mapped("fn_number")), {FN_A})

    def test_tokens(self):
        body = {"pos_id": "store1-till1", "receipts": [receipt(3)]}
        problem = self.assertProblem(self.post("receipts", body, token=False), 401, "unauthorized")
        self.assertIn("Bearer", problem["detail"])
        self.assertProblem(self.post("receipts", body, token="wrong"), 401, "unauthorized")
        self.assertProblem(self.post("receipts", body, token=self.other_token), 403, "forbidden")
        self.assertProblem(
            self.post("receipts", body, token=False, headers={"Authorization": f"Basic {self.token}"}),
            401,
            "unauthorized",
        )
        self.assertFalse(self.env["optics.fiscal.document"].search([("till_id", "=", self.till.id)]))

    def test_malformed_bodies(self):
        cases = [
            (b"not json", "not valid JSON"),
            (b"[]", "JSON object"),
            (b'{"pos_id": "store1-till1", "receipts": [], "x": NaN}', "not valid JSON"),
            (b'{"pos_id": "store1-till1", "receipts": ["\\ud800"]}', "surrogate"),
            (b"[" * 40 + b"]" * 40, "nested deeper"),
            (b"\xff\xfe", "UTF-8"),
            (json.dumps({"pos_id": "", "receipts": [receipt(1)]}).encode(), "'pos_id'"),
            (json.dumps({"pos_id": "x" * 65, "receipts": [receipt(1)]}).encode(), "'pos_id'"),
            (json.dumps({"pos_id": "store1-till1", "receipts": []}).encode(), "1..100"),
            (
                json.dumps(
                    {"pos_id": "store1-till1", "receipts": [receipt(n) for n in range(1, 102)]}
                ).encode(),
                "1..100",
            ),
            (json.dumps({"pos_id": "store1-till1", "receipts": [1]}).encode(), "JSON object"),
        ]
        for raw, reason in cases:
            with self.subTest(raw=raw[:60]):
                problem = self.assertProblem(self.post("receipts", None, raw=raw), 400, "malformed_body")
                self.assertIn(reason, problem["detail"])

    def test_a_full_batch_of_100_with_one_invalid_receipt(self):
        items = [receipt(n) for n in range(1, 101)]
        items[50]["total"] = -5
        body = self.post("receipts", {"pos_id": "store1-till1", "receipts": items}).json()
        statuses = [r["status"] for r in body["results"]]
        self.assertEqual(statuses.count("created"), 99)
        self.assertEqual(statuses[50], "rejected")
        self.assertEqual([r["receipt_id"] for r in body["results"]], [i["receipt_id"] for i in items])

    def test_odoos_own_errors_are_problems_on_these_routes(self):
        self.assertProblem(self.url_open(f"{API}/nothing-here", data="{}"), 404, "not_found")
        self.assertProblem(self.url_open("/optics_pos_ru54fz/v2/receipts"), 404, "not_found")
        response = self.url_open(f"{API}/receipts")  # GET
        self.assertProblem(response, 405, "method_not_allowed")
        self.assertEqual(response.headers["Allow"], "POST")
        big = b'{"pos_id": "store1-till1", "pad": "' + b"x" * (16 * 1024 * 1024) + b'"}'
        self.assertProblem(self.post("receipts", None, raw=big), 413, "body_too_large")

    def test_heartbeat(self):
        beat = {"pos_id": "store1-till1", "hlc": "001795470000000.00001", "sent_at_ms": 1795470000000,
                "status": {"kkt": "ok", "buffer": {"queued": 3, "capacity": 100, "dlq": 0}}}  # fmt: skip
        response = self.post("heartbeat", beat)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertIsInstance(response.json()["server_time_ms"], int)
        self.till.invalidate_recordset()
        self.assertEqual(
            (self.till.connection_state, self.till.buffer_queued, self.till.buffer_percent),
            ("online", 3, 3.0),
        )
        for field, value in (("hlc", "yesterday"), ("sent_at_ms", -1), ("status", [])):
            with self.subTest(field=field):
                self.assertProblem(
                    self.post("heartbeat", dict(beat, **{field: value})), 400, "malformed_body"
                )
        self.assertProblem(self.post("heartbeat", beat, token=self.other_token), 403, "forbidden")
