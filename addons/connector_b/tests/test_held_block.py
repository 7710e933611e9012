"""Held price changes (over the profile's 20 %) and the offline-tills block with its manager override."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import ImportCase, generated_rows, price_csv


@tagged("post_install", "-at_install")
class TestHeldPrices(ImportCase):
    def setUp(self):
        super().setUp()
        self.rows = generated_rows(4)
        self.run_job(price_csv(self.rows))

    def changed(self, factors):
        return price_csv(
            [(*r[:4], f"{float(r[4]) * f:.2f}", r[5]) for r, f in zip(self.rows, factors, strict=True)]
        )

    def price(self, sku):
        return self.lines_of([sku]).price

    def test_changes_over_20_percent_wait_while_the_rest_applies(self):
        job = self.run_job(self.changed([1.10, 1.20, 1.21, 0.70]))
        self.assertEqual((job.count_changed_up, job.count_held), (2, 2))
        self.assertEqual(self.price("T-000000"), 1100.0)
        self.assertEqual(self.price("T-000001"), 1201.2, "exactly 20 % is not held")
        self.assertEqual(self.price("T-000002"), 1002.0, "held: today's price stays")
        self.assertEqual(self.price("T-000003"), 1003.0)
        self.assertEqual(job.held_pending, 2)
        held = self.env["connector.import.log"].search(
            [("job_id", "=", job.id), ("decision", "=", "pending")]
        )
        self.assertEqual(sorted(held.mapped("key")), ["T-000002", "T-000003"])
        self.assertFalse(any(held.mapped("applied")))

    def test_a_manager_approves_or_refuses_held_changes(self):
        job = self.run_job(self.changed([1.0, 1.0, 1.5, 0.5]))
        held = self.env["connector.import.log"].search(
            [("job_id", "=", job.id), ("decision", "=", "pending")]
        )
        held.filtered(lambda line: line.key == "T-000002").action_approve()  # the list's action
        self.assertEqual(self.price("T-000002"), 1503.0)
        template = self.lines_of(["T-000002"]).product_tmpl_id
        self.assertEqual(template.list_price, 3090.0, "retail follows the approved price: 3006 → 3090")
        job.action_refuse_held()
        self.assertEqual(self.price("T-000003"), 1003.0)
        self.assertEqual(sorted(held.mapped("decision")), ["approved", "refused"])
        self.assertEqual(job.held_pending, 0)

    def test_a_user_cannot_approve_held_changes(self):
        job = self.run_job(self.changed([1.0, 1.0, 1.5, 1.0]))
        user = new_test_user(self.env, "importer", groups="connector_b.group_import_user")
        with self.assertRaises(AccessError):
            job.with_user(user).action_approve_held()
        self.assertEqual(self.price("T-000002"), 1002.0)


@tagged("post_install", "-at_install")
class TestOfflineTillsBlock(ImportCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rows = generated_rows(3)
        cls.config = cls.env["pos.config"].create({"name": "Магазин на Ленина"})
        cls.till = cls.env["pos.offline.buffer.status"].create(
            {"name": "Касса 1", "pos_id": "connector-b-till-1", "pos_config_id": cls.config.id}
        )
        cls.till.write({"connection_state": "online", "last_heartbeat_at": fields.Datetime.now()})

    def setUp(self):
        super().setUp()
        self.run_job(price_csv(self.rows))
        self.change = price_csv([(*r[:4], f"{float(r[4]) * 1.05:.2f}", r[5]) for r in self.rows])

    def previewed(self, content):
        job = self.job(content)
        job.action_preview()
        return job

    def test_a_lost_till_blocks_a_price_change_with_its_name(self):
        self.till.connection_state = "lost"
        job = self.previewed(self.change)
        with self.assertRaisesRegex(UserError, "Касса 1 \\(Магазин на Ленина\\)"):
            job.action_confirm()
        self.assertEqual(job.state, "previewed")

    def test_undelivered_receipts_block_after_the_configured_minutes(self):
        now = fields.Datetime.now()
        self.till.write({"undelivered_since": now - timedelta(minutes=10), "buffer_queued": 4})
        job = self.previewed(self.change)
        job.action_confirm()  # 10 min < 15 min: not blocked
        self.assertEqual(job.state, "queued")
        job._run()
        self.till.undelivered_since = now - timedelta(minutes=16)
        later = self.previewed(price_csv([(*r[:4], f"{float(r[4]) * 1.1:.2f}", r[5]) for r in self.rows]))
        with self.assertRaisesRegex(UserError, "4 receipts undelivered for 16 min"):
            later.action_confirm()
        self.env["ir.config_parameter"].set_param("connector_b.block_undelivered_minutes", "30")
        later.action_confirm()
        self.assertEqual(later.state, "queued")

    def test_new_products_alone_are_not_blocked(self):
        self.till.connection_state = "lost"
        job = self.previewed(price_csv(generated_rows(2, start=100)))
        job.action_confirm()
        self.assertEqual(job.state, "queued")

    def test_a_till_of_a_store_on_another_pricelist_does_not_block(self):
        self.till.connection_state = "lost"
        pricelist = self.env["product.pricelist"].create({"name": "Розница, Москва"})
        self.profile.pricelist_id = pricelist
        job = self.previewed(self.change)
        job.action_confirm()  # the lost till's store sells on its default pricelist
        job._run()
        self.assertEqual(job.state, "done")
        item = self.env["product.pricelist.item"].search([("pricelist_id", "=", pricelist.id)])
        self.assertEqual(len(item), 3, "retail prices went to the profile's pricelist")
        self.profile.pricelist_id = False

    def test_a_manager_overrides_the_block_with_a_reason(self):
        self.till.connection_state = "lost"
        job = self.previewed(self.change)
        with self.assertRaisesRegex(UserError, "reason"):
            job.action_override_block()
        user = new_test_user(self.env, "importer2", groups="connector_b.group_import_user")
        job.block_override_reason = "Касса на ремонте, продажи в магазине не ведутся"
        with self.assertRaises(AccessError):
            job.with_user(user).action_override_block()
        job.action_override_block()
        self.assertTrue(job.block_override)
        self.assertIn("Касса 1", job.message_ids[0].body)
        job.action_confirm()
        job._run()
        self.assertEqual(self.lines_of(["T-000000"]).price, 1050.0)
