"""The fiscal side of a POS order in Odoo: the till's answer, then its FN document; the e-receipt; Z reports;
the POS configuration's checks; what the POS loads for building receipts."""

import uuid

from odoo.addons.point_of_sale.tests.common import TestPoSCommon
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import FN_A, receipt


def printed(fd=7, fp=2174463510, issued_at="2026-11-23T10:05:00", total="100.00"):
    """The adapter's 200 printed answer as the POS keeps it (plus the kind it sent)."""
    return {
        "status": "printed",
        "receipt_id": str(uuid.uuid4()),
        "kind": "sale",
        "fiscal_doc": {
            "fn_number": FN_A,
            "fd_number": fd,
            "fiscal_sign": fp,
            "issued_at": issued_at,
            "shift_number": 1,
            "total": total,
        },
    }


@tagged("post_install", "-at_install")
class TestPosFiscalFields(TestPoSCommon):
    def setUp(self):
        super().setUp()
        self.config = self.basic_config
        self.product = self.create_product("Frame", self.categ_basic, 100.0, 50.0)
        self.open_new_session()
        self.till = (
            self.env["pos.offline.buffer.status"]
            .sudo()
            .create({"name": "Fields till", "pos_id": f"f-{uuid.uuid4().hex[:6]}", "tz": "Europe/Moscow"})
        )

    def push(self, answer=None, contact=None):
        data = self.create_ui_order_data([(self.product, 1)])
        data["data"]["access_token"] = str(uuid.uuid4())
        if answer:
            data["data"]["optics_fiscal"] = answer
            data["data"]["optics_buyer_contact"] = contact
        [result] = self.env["pos.order"].create_from_ui([data])
        return self.env["pos.order"].browse(result["id"])

    def test_a_printed_answer_fills_the_fiscal_fields_and_the_qr(self):
        order = self.push(printed())
        self.assertEqual(order.fiscal_status, "printed")
        self.assertEqual((order.fiscal_fn_number, order.fiscal_fd_number), (FN_A, 7))
        self.assertEqual(order.fiscal_qr, f"t=20261123T1005&s=100.00&fn={FN_A}&i=7&fp=2174463510&n=1")

    def test_a_buffered_order_gets_its_fields_from_the_document_the_till_delivers(self):
        answer = {"status": "buffered", "receipt_id": str(uuid.uuid4()), "fiscal_doc": None, "kind": "sale"}
        order = self.push(answer, contact="buyer@example.com")
        self.assertEqual(order.fiscal_status, "buffered")
        self.assertFalse(order.fiscal_qr)
        self.assertFalse(order.optics_e_receipt_sent, "no e-receipt before the FN signed it")
        Doc = self.env["optics.fiscal.document"].sudo()
        Doc._intake(
            self.till,
            [
                receipt(
                    41, issued_at="2026-11-23T09:00:00+00:00", total=10000, idempotency_key=order.access_token
                )
            ],
        )
        self.assertEqual(order.fiscal_status, "printed")
        self.assertEqual(order.fiscal_fd_number, 41)
        # The FN's time is shown in the store's time zone (Moscow, UTC+3), as the buyer's receipt says.
        self.assertEqual(order.fiscal_issued_at, "2026-11-23T12:00:00")
        self.assertTrue(order.fiscal_qr.startswith("t=20261123T1200&s=100.00&"))
        self.assertTrue(order.optics_e_receipt_sent)

    def test_the_e_receipt_goes_once_with_the_fiscal_fields(self):
        order = self.push(printed(fd=9), contact="buyer@example.com")
        mails = self.env["mail.mail"].search([("model", "=", "pos.order"), ("res_id", "=", order.id)])
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails.email_to, "buyer@example.com")
        self.assertRegex(mails.body_html, r"ФД\s+9\s")
        self.assertIn("/report/barcode/QR/t%3D20261123T1005%26s%3D100.00", mails.body_html)
        self.assertIn(order.fiscal_qr.replace("&", "&amp;"), mails.body_html)
        order._optics_send_e_receipts()
        self.assertEqual(
            self.env["mail.mail"].search_count([("model", "=", "pos.order"), ("res_id", "=", order.id)]), 1
        )

    def test_a_phone_contact_gets_no_mail_from_odoo(self):
        order = self.push(printed(fd=10), contact="+79991234567")
        self.assertFalse(order.optics_e_receipt_sent, "the OFD sends the e-receipt to a phone")

    def test_a_z_report_is_recorded_once_in_utc(self):
        Session = self.env["pos.session"]
        report = {
            "pos_id": self.till.pos_id,
            "shift_number": 12,
            "fd_number": 345,
            "closed_at": "2026-11-23T21:00:00",
            "unsent_count": 3,
            "first_unsent_at": "2026-11-23T20:10:00",
            "totals": {
                "receipts": 5,
                "sales": "940.00",
                "refunds": "45.00",
                "cash": "400.00",
                "electronic": "495.00",
            },
        }
        first = Session.optics_record_shift_report(self.pos_session.id, report)
        again = Session.optics_record_shift_report(self.pos_session.id, report)
        self.assertEqual(first, again)
        z = self.env["optics.pos.shift.report"].browse(first)
        self.assertEqual((z.shift_number, z.fd_number, z.unsent_count), (12, 345, 3))
        self.assertEqual(str(z.closed_at), "2026-11-23 18:00:00")  # Moscow 21:00 = 18:00 UTC
        self.assertEqual((z.sales, z.refunds, z.receipts), (940.0, 45.0, 5))
        self.assertEqual(self.pos_session.optics_shift_report_ids, z)

    def test_a_z_report_without_its_numbers_is_refused(self):
        with self.assertRaisesRegex(UserError, "shift_number, fd_number"):
            self.env["pos.session"].optics_record_shift_report(self.pos_session.id, {"pos_id": "x"})

    def test_fiscalization_needs_one_till_and_an_adapter_url(self):
        config = self.basic_config
        with self.assertRaises(ValidationError):
            config.write({"optics_fiscal": True})  # no till linked
        self.till.pos_config_id = config
        with self.assertRaises(ValidationError):
            config.write({"optics_fiscal": True, "optics_adapter_url": "http://127.0.0.1:8765/v1"})
        config.write({"optics_fiscal": True, "optics_adapter_url": "http://127.0.0.1:8765"})
        self.assertEqual(config.optics_pos_id, self.till.pos_id)

    def test_the_pos_loads_what_it_builds_receipts_from(self):
        session = self.pos_session
        self.assertIn("optics_ffd_vat_code", session._loader_params_account_tax()["search_params"]["fields"])
        product_fields = session._loader_params_product_product()["search_params"]["fields"]
        self.assertIn("optics_ffd_payment_subject", product_fields)
        self.assertIn("optics_inn", session._loader_params_res_users()["search_params"]["fields"])

    def test_a_cashier_inn_has_12_digits(self):
        with self.assertRaises(ValidationError):
            self.env.user.optics_inn = "12345"
        self.env.user.optics_inn = "500100732259"
