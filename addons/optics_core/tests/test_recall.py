"""Recalls: the next eye exam and the contact-lens replacement follow from the prescription; the daily cron
lists the due ones as activities for the store's manager, once, and only for the newest prescription."""

from datetime import date, timedelta

from odoo.tests import tagged

from .common import OpticsCase


@tagged("post_install", "-at_install")
class TestRecall(OpticsCase):
    def recalls(self, partner=None):
        partner = partner or self.patient
        recall = self.env.ref("optics_core.mail_activity_type_recall")
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", partner.id),
                ("activity_type_id", "=", recall.id),
            ]
        )

    def test_dates_follow_from_the_prescription(self):
        rx = self.prescription(date=date(2026, 3, 1))
        self.assertEqual(rx.next_exam_date, date(2027, 3, 1))
        contact = self.prescription(
            kind="contact", od_bc=8.6, os_bc=8.6, od_dia=14.2, os_dia=14.2, pd=0, date=date(2026, 3, 1)
        )
        self.assertFalse(contact.cl_replacement_date)
        contact.cl_supply_days = 90
        self.assertEqual(contact.cl_replacement_date, date(2026, 5, 30))

    def test_the_cron_creates_each_due_recall_once_for_the_store_manager(self):
        today = date.today()
        due = self.prescription(date=today - timedelta(days=360))  # exam due in ~5 days
        self.prescription(
            partner_id=self.env["res.partner"].create({"name": "Later", "optics_consent_date": today}).id,
            date=today - timedelta(days=100),
        )
        Rx = self.env["optics.prescription"]
        self.assertEqual(Rx._cron_optics_recalls(), 1)
        activity = self.recalls()
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.date_deadline, due.next_exam_date)
        self.assertEqual(activity.user_id, self.manager_a)
        self.assertIn(due.name, str(activity.note))
        self.assertEqual(Rx._cron_optics_recalls(), 0)  # once
        self.assertEqual(len(self.recalls()), 1)
        due.next_exam_date = today + timedelta(days=3)  # moved: a new recall
        self.assertEqual(Rx._cron_optics_recalls(), 1)

    def test_contact_lens_replacement_is_recalled(self):
        today = date.today()
        self.prescription(
            kind="contact",
            od_bc=8.6,
            os_bc=8.6,
            od_dia=14.2,
            os_dia=14.2,
            pd=0,
            date=today - timedelta(days=80),
            cl_supply_days=90,
        )
        self.assertEqual(self.env["optics.prescription"]._cron_optics_recalls(), 1)
        self.assertEqual(self.recalls().date_deadline, today + timedelta(days=10))

    def test_a_newer_prescription_supersedes_the_recall(self):
        today = date.today()
        self.prescription(date=today - timedelta(days=360))
        self.prescription(date=today - timedelta(days=10))
        self.assertEqual(self.env["optics.prescription"]._cron_optics_recalls(), 0)
        self.assertFalse(self.recalls())
