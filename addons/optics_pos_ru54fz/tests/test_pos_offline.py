"""Offline start of the POS, server side: login numbers never handed out twice, the worker's script."""

import uuid

from odoo.addons.point_of_sale.tests.common import TestPoSCommon
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestLoginNumbers(TestPoSCommon):
    def setUp(self):
        super().setUp()
        self.config = self.basic_config
        self.product = self.create_product("Frame", self.categ_basic, 100.0, 50.0)
        self.open_new_session()
        self.pos_session.login()  # the POS page rendered once: login number 1

    def order_named(self, session_id, login, sequence=1):
        data = self.create_ui_order_data([(self.product, 1)])
        data["data"]["name"] = f"Заказ {session_id:05d}-{login:03d}-{sequence:04d}"
        data["data"]["access_token"] = str(uuid.uuid4())
        return data

    def test_a_reported_number_moves_the_session_up_and_never_down(self):
        self.assertEqual(self.pos_session.optics_reserve_login(7), 7)
        self.assertEqual(self.pos_session.login_number, 7)
        self.assertEqual(self.pos_session.optics_reserve_login(3), 7, "a late, lower report changes nothing")
        self.assertEqual(self.pos_session.login(), 8, "the next page gets a number never used offline")

    def test_a_bad_number_is_refused_in_russian_terms(self):
        for bad in ("5", 0, -1, 2.5, True, 10**7):
            with self.subTest(bad=bad), self.assertRaises(UserError):
                self.pos_session.optics_reserve_login(bad)
        self.assertEqual(self.pos_session.login_number, 1)

    def test_a_user_without_pos_access_cannot_move_it(self):
        outsider = new_test_user(self.env, login="offline-outsider", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.pos_session.with_user(outsider).optics_reserve_login(5)

    def test_an_order_sold_offline_reserves_its_login_number(self):
        self.env["pos.order"].create_from_ui([self.order_named(self.pos_session.id, 4)])
        self.assertEqual(self.pos_session.login_number, 4)
        self.assertEqual(self.pos_session.login(), 5)

    def test_a_name_of_another_session_or_an_odd_name_reserves_nothing(self):
        other = self.order_named(self.pos_session.id + 1000, 9)
        other["data"]["pos_session_id"] = self.pos_session.id
        self.env["pos.order"].create_from_ui([other])
        odd = self.order_named(self.pos_session.id, 9)
        odd["data"]["name"] = "Order without a uid"
        self.env["pos.order"].create_from_ui([odd])
        self.assertEqual(self.pos_session.login_number, 1)

    def test_the_number_of_an_order_sent_twice_is_kept(self):
        data = self.order_named(self.pos_session.id, 6)
        self.env["pos.order"].create_from_ui([data])
        self.env["pos.order"].create_from_ui([data])
        self.assertEqual(
            self.env["pos.order"].search_count([("access_token", "=", data["data"]["access_token"])]), 1
        )
        self.assertEqual(self.pos_session.login_number, 6)


@tagged("post_install", "-at_install")
class TestWorkerScript(HttpCase):
    def test_the_worker_is_served_for_the_pos_scope_and_rechecked_each_start(self):
        response = self.url_open("/pos/optics-sw.js")
        self.assertEqual(response.status_code, 200)
        self.assertIn("javascript", response.headers["Content-Type"])
        self.assertEqual(response.headers["Service-Worker-Allowed"], "/pos/")
        self.assertEqual(response.headers["Cache-Control"], "no-cache")
        for route in ("pos.session/load_pos_data", "barcode.rule/search_read"):
            self.assertIn(route, response.text)
