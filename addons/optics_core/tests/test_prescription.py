"""Prescriptions: every rule of tools/rx.py reaches the user as a Russian ValidationError; notation,
transposition, validity, consent."""

from datetime import date, timedelta

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import OpticsCase


@tagged("post_install", "-at_install")
class TestPrescription(OpticsCase):
    def test_a_valid_prescription_is_recorded_and_written_as_opticians_do(self):
        rx = self.prescription(od_add=2.0)
        self.assertTrue(rx.name.startswith("RX/"))
        self.assertEqual(rx.od_display, "-2,25 / -0,75 × 90° Add +2,00")
        self.assertEqual(rx.os_display, "-2,00 sph")
        self.assertEqual((rx.expiry_date.year - rx.date.year) * 12 + rx.expiry_date.month - rx.date.month, 12)

    def test_values_off_the_grid_are_refused_in_russian(self):
        cases = [
            ({"od_sph": -2.1}, "шаг"),
            ({"od_sph": 30.25}, "диапазон"),
            ({"od_cyl": -10.25, "od_axis": 90}, "диапазон"),
            ({"od_add": 4.25}, "диапазон"),
            ({"od_add": 0.5}, "диапазон"),
        ]
        for overrides, word in cases:
            with self.subTest(overrides=overrides), self.assertRaises(ValidationError) as caught:
                self.prescription(**overrides)
            self.assertIn(word, caught.exception.args[0])
            self.assertIn("OD", caught.exception.args[0])

    def test_axis_is_required_exactly_when_there_is_a_cylinder(self):
        with self.assertRaisesRegex(ValidationError, "Ось"):
            self.prescription(od_axis=0)
        with self.assertRaisesRegex(ValidationError, "Ось"):
            self.prescription(os_axis=45)
        with self.assertRaisesRegex(ValidationError, "Ось"):
            self.prescription(od_axis=181)
        self.assertEqual(self.prescription(od_axis=180).od_axis, 180)

    def test_prism_needs_its_base_and_contact_lenses_need_bc_and_dia(self):
        with self.assertRaises(ValidationError):
            self.prescription(od_prism=1.0)
        rx = self.prescription(od_prism=1.0, od_prism_base="in")
        self.assertIn("Prism 1,00", rx.od_display)
        with self.assertRaisesRegex(ValidationError, "BC"):
            self.prescription(kind="contact", pd=0)
        contact = self.prescription(kind="contact", pd=0, od_bc=8.6, od_dia=14.2, os_bc=8.6, os_dia=14.2)
        self.assertEqual(contact.kind, "contact")
        with self.assertRaises(ValidationError):
            self.prescription(kind="contact", pd=0, od_bc=6.5, od_dia=14.2, os_bc=8.6, os_dia=14.2)

    def test_pupillary_distances(self):
        with self.assertRaises(ValidationError):
            self.prescription(pd=95.0)
        with self.assertRaisesRegex(ValidationError, "PD"):
            self.prescription(pd=0, od_pd=31.0)
        with self.assertRaises(ValidationError):
            self.prescription(pd=64.0, od_pd=31.0, os_pd=31.5)
        rx = self.prescription(pd=62.5, od_pd=31.0, os_pd=31.5)
        self.assertEqual(rx.od_pd + rx.os_pd, rx.pd)

    def test_transposition_both_ways_and_back(self):
        rx = self.prescription(od_sph=-1.0, od_cyl=-1.5, od_axis=30, os_sph=1.0, os_cyl=0.5, os_axis=120)
        rx.action_to_minus_cylinder()
        # OD is already minus; OS +1,00 +0,50 × 120 → +1,50 -0,50 × 30.
        self.assertEqual((rx.od_sph, rx.od_cyl, rx.od_axis), (-1.0, -1.5, 30))
        self.assertEqual((rx.os_sph, rx.os_cyl, rx.os_axis), (1.5, -0.5, 30))
        rx.action_to_plus_cylinder()
        self.assertEqual((rx.od_sph, rx.od_cyl, rx.od_axis), (-2.5, 1.5, 120))
        self.assertEqual((rx.os_sph, rx.os_cyl, rx.os_axis), (1.0, 0.5, 120))
        rx.action_to_minus_cylinder()
        self.assertEqual((rx.od_sph, rx.od_cyl, rx.od_axis), (-1.0, -1.5, 30))

    def test_dates(self):
        # "Today" in the user's time zone, as the rule reads it (the machine's date differs near midnight).
        today = fields.Date.context_today(self.env["optics.prescription"])
        with self.assertRaises(ValidationError):
            self.prescription(date=today + timedelta(days=1))
        with self.assertRaises(ValidationError):
            self.prescription(date=today - timedelta(days=10), expiry_date=today - timedelta(days=20))
        old = self.prescription(date=today - timedelta(days=400))
        self.assertTrue(old.is_expired)

    def test_no_prescription_without_the_patients_consent(self):
        stranger = self.env["res.partner"].create({"name": "Без согласия"})
        with self.assertRaisesRegex(ValidationError, "152"):
            self.prescription(partner_id=stranger.id)
        withdrawn = self.env["res.partner"].create(
            {
                "name": "Отозвал",
                "optics_consent_date": date(2025, 1, 10),
                "optics_consent_withdrawn_date": date(2026, 1, 1),
            }
        )
        with self.assertRaisesRegex(ValidationError, "152"):
            self.prescription(partner_id=withdrawn.id)
        rx = self.prescription()
        self.patient.optics_consent_withdrawn_date = date.today()
        with self.assertRaisesRegex(ValidationError, "152"):
            rx.od_sph = -2.5
        with self.assertRaises(ValidationError):
            self.env["res.partner"].create(
                {
                    "name": "x",
                    "optics_consent_date": date(2026, 1, 10),
                    "optics_consent_withdrawn_date": date(2025, 1, 1),
                }
            )
