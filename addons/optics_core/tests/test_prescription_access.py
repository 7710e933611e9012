"""Health data: only the opticians and managers of a prescription's store read it, and every opening,
change and export is logged on behalf of the person; the log cannot be altered."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import OpticsCase


@tagged("post_install", "-at_install")
class TestPrescriptionAccess(OpticsCase):
    def setUp(self):
        super().setUp()
        self.rx_a = self.prescription(user=self.optician_a)
        self.rx_b = self.prescription(user=self.optician_b, store_id=self.store_b.id)
        self.Log = self.env["optics.prescription.access"]

    def entries(self, rx, action):
        return self.Log.search([("prescription_id", "=", rx.id), ("action", "=", action)])

    def test_an_optician_sees_only_the_prescriptions_of_their_stores(self):
        Rx = self.env["optics.prescription"]
        self.assertEqual(Rx.with_user(self.optician_a).search([]), self.rx_a)
        self.assertEqual(Rx.with_user(self.optician_b).search([]), self.rx_b)
        with self.assertRaises(AccessError):
            self.rx_b.with_user(self.optician_a).read(["od_sph"])
        with self.assertRaises(AccessError):
            self.prescription(user=self.optician_a, store_id=self.store_b.id)

    def test_other_employees_read_patients_without_touching_prescriptions(self):
        # For a cashier or an accountant the prescription fields of a partner do not exist.
        visible = self.env["res.partner"].with_user(self.clerk).fields_get()
        self.assertNotIn("optics_prescription_ids", visible)
        self.assertNotIn("optics_prescription_count", visible)
        self.assertEqual(self.patient.with_user(self.clerk).read(["name"])[0]["name"], "Иванова Мария")
        self.assertEqual(self.patient.with_user(self.optician_a).optics_prescription_count, 1)
        self.assertEqual(self.patient.with_user(self.optician_b).optics_prescription_count, 1)

    def test_other_employees_cannot_read_prescriptions_at_all(self):
        with self.assertRaises(AccessError):
            self.env["optics.prescription"].with_user(self.clerk).search([])
        with self.assertRaises(AccessError):
            self.Log.with_user(self.clerk).search([])

    def test_a_new_store_takes_effect_at_once(self):
        Rx = self.env["optics.prescription"].with_user(self.optician_a)
        self.assertFalse(Rx.search([("id", "=", self.rx_b.id)]))
        self.optician_a.optics_store_ids |= self.store_b
        self.assertEqual(Rx.search([("id", "=", self.rx_b.id)]), self.rx_b)

    def test_opening_changing_and_exporting_are_logged_for_the_person(self):
        self.assertEqual(self.entries(self.rx_a, "create").user_id, self.optician_a)
        before = len(self.entries(self.rx_a, "read"))
        self.rx_a.with_user(self.optician_a).web_read({"od_sph": {}, "od_display": {}})
        reads = self.entries(self.rx_a, "read")
        self.assertEqual(len(reads), before + 1)
        self.assertEqual(reads[0].user_id, self.optician_a)
        self.assertEqual(reads[0].store_id, self.store_a)
        # Reading only non-health fields (a patient picker's name) is not an opening of health data.
        self.rx_a.with_user(self.optician_a).read(["name", "date"])
        self.assertEqual(len(self.entries(self.rx_a, "read")), before + 1)
        self.rx_a.with_user(self.manager_a).write({"od_sph": -2.5})
        change = self.entries(self.rx_a, "write")
        self.assertEqual(change.user_id, self.manager_a)
        self.assertEqual(change.field_names, "od_sph")
        self.optician_a.groups_id |= self.env.ref("base.group_allow_export")
        self.rx_a.with_user(self.optician_a).export_data(["name", "od_sph"])
        self.assertEqual(self.entries(self.rx_a, "export").user_id, self.optician_a)

    def test_a_list_search_read_logs_each_record_shown(self):
        self.env["optics.prescription"].with_user(self.manager_a).search_read([], ["partner_id", "summary"])
        self.assertEqual(self.entries(self.rx_a, "read").user_id, self.manager_a)
        self.assertFalse(self.entries(self.rx_b, "read"))

    def test_deletion_is_logged_and_the_entry_survives(self):
        name = self.rx_a.name
        self.rx_a.with_user(self.manager_a).unlink()
        entry = self.Log.search([("prescription_name", "=", name), ("action", "=", "unlink")])
        self.assertEqual(entry.user_id, self.manager_a)
        self.assertFalse(entry.prescription_id)

    def test_the_log_is_read_by_managers_of_the_store_and_altered_by_nobody(self):
        logs = self.Log.with_user(self.manager_a).search([])
        self.assertTrue(logs)
        self.assertEqual(logs.store_id, self.store_a)
        with self.assertRaises(AccessError):
            self.Log.with_user(self.optician_a).search([])
        with self.assertRaises(UserError):
            logs[0].sudo().write({"action": "read"})
        with self.assertRaises(UserError):
            logs.sudo().unlink()

    def test_opticians_cannot_delete_prescriptions(self):
        with self.assertRaises(AccessError):
            self.rx_a.with_user(self.optician_a).unlink()
