"""Who sees what: the fleet group reads tills and documents, administrators manage tills, others nothing."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user

from .common import TillCase, receipt


class TestAccess(TillCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Doc._intake(cls.till, [receipt(1)])
        cls.manager = new_test_user(cls.env, "fleet_user", groups="optics_pos_ru54fz.group_fleet_user")
        cls.admin = new_test_user(cls.env, "fleet_admin2", groups="optics_pos_ru54fz.group_fleet_admin")
        cls.cashier = new_test_user(cls.env, "cashier", groups="point_of_sale.group_pos_user")

    def test_the_fleet_group_reads_but_does_not_write(self):
        tills = self.Till.with_user(self.manager).search([])
        self.assertIn(self.till, tills)
        self.assertEqual(self.Doc.with_user(self.manager).search_count([("till_id", "=", self.till.id)]), 1)
        with self.assertRaises(AccessError):
            self.till.with_user(self.manager).write({"name": "renamed"})
        with self.assertRaises(AccessError):
            self.Till.with_user(self.manager).create({"name": "x", "pos_id": "x"})
        with self.assertRaises(AccessError):
            self.Doc.with_user(self.manager).search([], limit=1).unlink()

    def test_administrators_manage_tills_but_never_edit_documents(self):
        till = self.Till.with_user(self.admin).create({"name": "Store 3, till 1", "pos_id": "store3-till1"})
        till.write({"name": "Store 3, till 1 (renamed)"})
        with self.assertRaises(AccessError):
            self.Doc.with_user(self.admin).search([], limit=1).write({"total": 1})

    def test_a_cashier_sees_no_till_and_no_document(self):
        with self.assertRaises(AccessError):
            self.Till.with_user(self.cashier).search([])
        with self.assertRaises(AccessError):
            self.Doc.with_user(self.cashier).search([])

    def test_another_companys_tills_are_hidden(self):
        company = self.env["res.company"].create({"name": "Other optics"})
        foreign = self.Till.create({"name": "Foreign", "pos_id": "foreign-1", "company_id": company.id})
        self.assertNotIn(foreign, self.Till.with_user(self.manager).search([]))
