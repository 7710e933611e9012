"""Shared set-up: two stores (warehouses), an optician and a manager per store, a consenting patient."""

from datetime import date, timedelta

from odoo.tests.common import TransactionCase, new_test_user


class OpticsCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        company = env.company
        cls.store_a = env["stock.warehouse"].create(
            {"name": "Store A", "code": "STA", "company_id": company.id}
        )
        cls.store_b = env["stock.warehouse"].create(
            {"name": "Store B", "code": "STB", "company_id": company.id}
        )
        cls.optician_a = cls._user("optician_a", "optics_core.group_optician", cls.store_a)
        cls.optician_b = cls._user("optician_b", "optics_core.group_optician", cls.store_b)
        cls.manager_a = cls._user("manager_a", "optics_core.group_store_manager", cls.store_a)
        cls.clerk = new_test_user(env, login="clerk", groups="base.group_user")
        cls.patient = env["res.partner"].create(
            {"name": "Иванова Мария", "optics_consent_date": date.today() - timedelta(days=30)}
        )

    @classmethod
    def _user(cls, login, group, store):
        user = new_test_user(cls.env, login=login, groups=f"base.group_user,{group}")
        user.optics_store_ids = store
        return user

    def rx_vals(self, **overrides):
        vals = {
            "partner_id": self.patient.id,
            "store_id": self.store_a.id,
            "prescriber": "Петров А. А.",
            "od_sph": -2.25,
            "od_cyl": -0.75,
            "od_axis": 90,
            "os_sph": -2.0,
            "pd": 62.0,
        }
        vals.update(overrides)
        return vals

    def prescription(self, user=None, **overrides):
        model = self.env["optics.prescription"]
        if user:
            model = model.with_user(user)
        return model.create(self.rx_vals(**overrides))
