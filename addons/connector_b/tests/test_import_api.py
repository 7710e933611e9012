"""The import API over real HTTP: a script's API key submits, polls, confirms and downloads; every refusal
is ``application/problem+json`` with its stable code and a Russian detail.

The test server has no cron thread, so the test runs the queued job itself (``job._run()``, its commits
turned into savepoints by ``common.patch_runner`` as in ``ImportCase``).
"""

import base64
import csv
import io
from pathlib import Path
from unittest.mock import patch

from openpyxl import load_workbook

from odoo.tests import HttpCase, new_test_user, tagged

from ..controllers import import_api
from .common import CONFIG, SAMPLES, generated_rows, patch_runner, price_csv

API = "/connector_b/api/v1"
PROBLEM = "application/problem+json"
CYRILLIC = "[А-Яа-яЁё]"
RU_PO = Path(__file__).resolve().parents[1] / "i18n" / "ru.po"


@tagged("post_install", "-at_install")
class TestImportApi(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The API answers in Russian when it is installed (import_api.API_LANG).
        cls.env["res.lang"]._activate_lang("ru_RU")
        cls.env["ir.module.module"]._load_module_terms(["connector_b"], ["ru_RU"], overwrite=True)
        cls.user = new_test_user(cls.env, "import_api_script", groups="connector_b.group_import_user")
        cls.key = cls.env["res.users.apikeys"].with_user(cls.user)._generate(None, "Скрипт поставщика")
        cls.Job = cls.env["connector.import.job"]
        cls.sample = (SAMPLES / "optima_frames.csv").read_bytes()
        # optics_core's categories require a sales tax with their FFD VAT code (frames 6, sunglasses 11):
        # without one the sample's products are refused at apply time.
        for code, name, amount in (("6", "Без НДС (оправы)", 0), ("11", "НДС (солнцезащитные очки)", 20)):
            cls.env["account.tax"].create(
                {"name": name, "amount": amount, "type_tax_use": "sale", "optics_ffd_vat_code": code}
            )

    def setUp(self):
        super().setUp()
        patch_runner(self)

    # --- helpers ---------------------------------------------------------------------------------------

    def call(self, path, method="GET", key=None, headers=None, **kwargs):
        """One request to the API with the script's key (``key=False``: none)."""
        sent = dict(headers or {})
        if key is not False:
            sent.setdefault("Authorization", f"Bearer {key or self.key}")
        return self.opener.request(method, self.base_url() + path, headers=sent, timeout=30, **kwargs)

    def submit(self, content, profile="optima_frames", name="optima_frames.csv", key=None, **form):
        return self.call(
            f"{API}/imports",
            "POST",
            key=key,
            data={"profile": profile, **form},
            files={"file": (name, content, "text/csv")},
        )

    def assertProblem(self, answer, status, code, russian=True):
        self.assertEqual(answer.status_code, status, answer.text)
        self.assertEqual(answer.headers["Content-Type"].split(";")[0], PROBLEM)
        body = answer.json()
        self.assertEqual((body["status"], body["code"], body["type"]), (status, code, f"/problems/{code}"))
        self.assertTrue(body["title"])
        if russian:
            self.assertRegex(body["detail"], CYRILLIC)
        return body

    def jobs(self):
        return self.Job.search_count([])

    # --- the script's road -----------------------------------------------------------------------------

    def test_a_script_submits_polls_confirms_and_downloads_the_rejected_rows(self):
        answer = self.submit(self.sample)
        self.assertEqual(answer.status_code, 201, answer.text)
        self.assertEqual(answer.headers["Content-Type"].split(";")[0], "application/json")
        body = answer.json()
        self.assertEqual(answer.headers["Location"], f"{API}/imports/{body['id']}")
        self.assertEqual(
            (body["state"], body["profile"], body["file_name"]),
            ("previewed", "optima_frames", "optima_frames.csv"),
        )
        counts = body["counts"]
        self.assertGreater(counts["new"], 5)
        self.assertGreater(counts["rejected"], 0)
        self.assertEqual(sum(counts.values()), body["rows_total"])
        self.assertEqual(body["links"]["self"], f"{API}/imports/{body['id']}")
        job = self.Job.browse(body["id"])
        self.assertEqual(job.create_uid, self.user, "the job is created as the key's user")

        polled = self.call(body["links"]["self"])
        self.assertEqual(polled.status_code, 200, polled.text)
        self.assertEqual(polled.json()["state"], "previewed")

        confirmed = self.call(body["links"]["confirm"], "POST")
        self.assertEqual(confirmed.status_code, 200, confirmed.text)
        self.assertEqual(confirmed.json()["state"], "queued")
        self.assertProblem(self.call(body["links"]["confirm"], "POST"), 409, "not_previewed")

        job._run()  # what the cron does (the test server has no cron thread)
        done = self.call(body["links"]["self"]).json()
        self.assertEqual(done["state"], "done", done["error"])
        self.assertEqual((done["rows_done"], done["progress"]), (done["rows_total"], 100.0))
        self.assertEqual(done["count_applied"], counts["new"])
        self.assertEqual(done["counts"], counts)
        self.assertEqual(done["held_pending"], 0)
        self.assertIsNone(done["error"])
        self.assertTrue(done["finished_at"].endswith("Z"))
        created = self.env["product.supplierinfo"].search_count(
            [("connector_job_id", "=", job.id), ("product_code", "=", "ОП-М-1001")]
        )
        self.assertEqual(created, 1)

        report = self.call(f"{API}/imports/{job.id}/rejected?format=csv")
        self.assertEqual(report.status_code, 200, report.text)
        self.assertEqual(report.headers["Content-Type"].split(";")[0], "text/csv")
        self.assertIn("attachment", report.headers["Content-Disposition"])
        table = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig")), delimiter=";"))
        self.assertEqual(table[0][0], "Строка")
        self.assertEqual(len(table) - 1, counts["rejected"])
        xlsx = self.call(done["links"]["rejected"])
        self.assertEqual(xlsx.status_code, 200, xlsx.text)
        sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
        self.assertEqual(next(sheet.iter_rows(values_only=True))[0], "Строка")
        self.assertProblem(self.call(f"{API}/imports/{job.id}/rejected?format=pdf"), 400, "invalid_field")

    def test_confirm_true_previews_and_queues_at_once(self):
        answer = self.submit(self.sample, confirm="true", currency_rate="1,0")
        self.assertEqual(answer.status_code, 201, answer.text)
        self.assertEqual(answer.json()["state"], "queued")
        self.assertEqual(self.Job.browse(answer.json()["id"]).currency_rate, 1.0)

    # --- refusals --------------------------------------------------------------------------------------

    def test_a_missing_or_bad_key_is_401_with_a_bearer_challenge(self):
        before = self.jobs()
        bad = [
            {},
            {"Authorization": "Bearer"},
            {"Authorization": "Bearer nope"},
            {"Authorization": f"Bearer {self.key[:-1]}{'0' if self.key[-1] != '0' else '1'}"},
            {"Authorization": f"Basic {self.key}"},
        ]
        for headers in bad:
            with self.subTest(headers=headers):
                answer = self.call(f"{API}/imports/1", key=False, headers=headers)
                self.assertProblem(answer, 401, "unauthorized")
                self.assertTrue(answer.headers["WWW-Authenticate"].startswith("Bearer"))
        self.assertProblem(self.submit(self.sample, key="0" * 40), 401, "unauthorized")
        self.user.active = False
        self.assertProblem(self.call(f"{API}/imports/1"), 401, "unauthorized")
        self.assertEqual(self.jobs(), before)

    def test_a_user_outside_the_import_group_is_403(self):
        clerk = new_test_user(self.env, "import_api_clerk", groups="base.group_user")
        key = self.env["res.users.apikeys"].with_user(clerk)._generate(None, "Чужой скрипт")
        before = self.jobs()
        self.assertProblem(self.submit(self.sample, key=key), 403, "forbidden")
        self.assertEqual(self.jobs(), before)

    def test_a_file_the_engine_refuses_is_422_with_its_russian_message_and_no_job(self):
        before = self.jobs()
        xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100
        body = self.assertProblem(self.submit(xls, name="old.xls"), 422, "file_refused")
        self.assertIn("Формат .xls", body["detail"])
        self.assertProblem(self.submit(b"", name="empty.csv"), 422, "file_refused")
        self.assertProblem(self.submit(self.sample, profile="no_such_profile"), 422, "unknown_profile")
        self.assertEqual(self.jobs(), before, "a refused file leaves no job behind")

    def test_malformed_requests_are_400_and_an_oversized_file_413(self):
        before = self.jobs()
        self.assertProblem(self.submit(self.sample, profile=""), 400, "missing_field")
        no_file = self.call(f"{API}/imports", "POST", data={"profile": "optima_frames"})
        self.assertProblem(no_file, 400, "missing_field")
        self.assertProblem(self.submit(self.sample, currency_rate="курс"), 400, "invalid_field")
        self.assertProblem(self.submit(self.sample, currency_rate="-2"), 400, "invalid_field")
        self.assertProblem(self.submit(self.sample, confirm="может быть"), 400, "invalid_field")
        with patch.object(import_api, "MAX_UPLOAD_BYTES", len(self.sample) - 1):
            self.assertProblem(self.submit(self.sample), 413, "file_too_large")
        self.assertEqual(self.jobs(), before)

    def test_unknown_or_hidden_jobs_are_404_and_wrong_methods_405(self):
        for path in (f"{API}/imports/999999999", f"{API}/imports/99999999999", f"{API}/imports/0/rejected"):
            with self.subTest(path=path):
                self.assertProblem(self.call(path), 404, "not_found")
        self.assertProblem(self.call(f"{API}/imports/999999999/confirm", "POST"), 404, "not_found")
        # A job of a company the user does not work in is hidden by the record rule: not found, not 403.
        other = self.env["res.company"].create({"name": "Другая компания"})
        profile = self.env["connector.import.profile"].search([("code", "=", "optima_frames")])
        hidden = self.Job.create(
            {"profile_id": profile.id, "company_id": other.id, "file": b"YQ==", "file_name": "a.csv"}
        )
        self.assertProblem(self.call(f"{API}/imports/{hidden.id}"), 404, "not_found")
        self.assertProblem(self.call(f"{API}/nothing/here"), 404, "not_found")
        wrong = self.call(f"{API}/imports")
        self.assertProblem(wrong, 405, "method_not_allowed")
        self.assertEqual(wrong.headers["Allow"], "POST")
        self.assertEqual(self.call(f"{API}/imports/{hidden.id}", "DELETE").headers["Allow"], "GET")

    def test_the_offline_tills_block_is_409_naming_the_tills(self):
        supplier = self.env["res.partner"].create({"name": "Поставщик API", "is_company": True})
        profile = self.env["connector.import.profile"].create(
            {"name": "Прайс API", "code": "api_prices", "supplier_id": supplier.id, "config": CONFIG}
        )
        rows = generated_rows(3, prefix="API")
        first = self.Job.create(
            {"profile_id": profile.id, "file": base64.b64encode(price_csv(rows)), "file_name": "a.csv"}
        )
        first.action_preview()
        first.action_confirm()
        first._run()
        self.assertEqual(first.state, "done", first.error)
        config = self.env["pos.config"].create({"name": "Магазин на Ленина"})
        till = self.env["pos.offline.buffer.status"].create(
            {"name": "Касса API", "pos_id": "connector-b-api-1", "pos_config_id": config.id}
        )
        till.connection_state = "lost"
        changed = price_csv([(*r[:4], f"{float(r[4]) * 1.05:.2f}", r[5]) for r in rows])

        answer = self.submit(changed, profile="api_prices", name="changed.csv")
        self.assertEqual(answer.status_code, 201, answer.text)
        body = answer.json()
        self.assertEqual(body["counts"]["changed_up"], 3)
        refused = self.assertProblem(self.call(body["links"]["confirm"], "POST"), 409, "import_blocked")
        self.assertIn("Касса API (Магазин на Ленина)", refused["detail"])
        if RU_PO.exists():  # the models' message itself is Russian once connector_b's ru.po is there
            self.assertNotIn("Prices cannot change now", refused["detail"])
        self.assertEqual(self.Job.browse(body["id"]).state, "previewed")

        # confirm=true: the preview is kept (Location) and the refusal says so.
        at_once = self.submit(changed, profile="api_prices", name="changed.csv", confirm="true")
        detail = self.assertProblem(at_once, 409, "import_blocked")["detail"]
        self.assertIn("загружен и просмотрен, но не поставлен в очередь", detail)
        kept = self.Job.browse(int(at_once.headers["Location"].rsplit("/", 1)[1]))
        self.assertEqual(kept.state, "previewed")
