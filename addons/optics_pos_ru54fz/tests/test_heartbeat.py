"""Heartbeats on the till record, the fleet verdict, lost tills and the managers' digest."""

from datetime import datetime, timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import new_test_user

from ..tools.heartbeat import heartbeat_values
from .common import FN_A, TillCase, receipt

NOW = datetime(2026, 12, 4, 10, 0, 0)
NOW_MS = 1796378400000  # NOW as Unix milliseconds
STATUS = {
    "version": "0.1.0",
    "network": "online",
    "breaker": "CLOSED",
    "kkt": "ok",
    "fn_number": FN_A,
    "buffer": {"queued": 12, "capacity": 200, "percent_full": 6.0, "dlq": 0},
    "fn_backlog": {
        "unconfirmed": 3,
        "oldest_unconfirmed_at": "2026-12-01T09:00:00",
        "days_to_block": 27.0,
        "fn_expires_on": "2027-12-01",
    },
}


def hlc_at(ms):
    return f"{ms:015d}.00000"


class TestHeartbeat(TillCase):
    def beat(self, till=None, status=None, hlc=None):
        (till or self.till)._record_heartbeat(
            hlc or hlc_at(NOW_MS), STATUS if status is None else status, NOW_MS
        )

    def test_values_read_from_the_status(self):
        values = heartbeat_values(hlc_at(NOW_MS + 1500), STATUS, NOW, NOW_MS, "Asia/Yekaterinburg")
        self.assertEqual(values["hlc_drift_ms"], 1500)
        self.assertEqual(
            (values["buffer_queued"], values["buffer_capacity"], values["buffer_percent"]), (12, 200, 6.0)
        )
        self.assertEqual(values["fn_block_at"], NOW + timedelta(days=27))
        self.assertEqual(
            values["fn_oldest_unconfirmed_at"], datetime(2026, 12, 1, 4, 0)
        )  # FN clock: store time
        self.assertEqual(str(values["fn_expires_on"]), "2027-12-01")
        self.assertEqual(
            (values["network_state"], values["breaker_state"], values["kkt_state"]),
            ("online", "CLOSED", "ok"),
        )
        self.assertEqual((values["fn_number"], values["adapter_version"]), (FN_A, "0.1.0"))

    def test_bad_values_are_ignored_not_refused(self):
        status = {
            "buffer": {"queued": "many", "capacity": 200},
            "network": "wobbly",
            "fn_backlog": [],
            "kkt": 5,
        }
        values = heartbeat_values(hlc_at(NOW_MS), status, NOW, NOW_MS)
        self.assertEqual(
            (values["buffer_queued"], values["network_state"], values["kkt_state"]), (0, False, False)
        )
        self.assertFalse(values["fn_block_at"])
        percent = heartbeat_values(hlc_at(NOW_MS), {"buffer": {"queued": 50, "capacity": 200}}, NOW, NOW_MS)
        self.assertEqual(percent["buffer_percent"], 25.0)  # an adapter that does not send percent_full

    def test_a_huge_status_is_not_kept_raw(self):
        values = heartbeat_values(hlc_at(NOW_MS), {"kkt": "ok", "pad": "x" * 70000}, NOW, NOW_MS)
        self.assertEqual(values["last_status"], {"omitted": "status over 64 KiB"})
        self.assertEqual(values["kkt_state"], "ok")  # the fields are still read

    def test_a_heartbeat_brings_a_till_online_and_green(self):
        self.assertEqual(self.till.connection_state, "waiting")
        self.beat()
        self.assertEqual(self.till.connection_state, "online")
        self.assertEqual(self.till.health, "0_green", self.till.health_reasons)
        self.assertEqual(self.till.fn_number, FN_A)
        self.assertAlmostEqual(self.till.fn_days_left, 27.0, delta=0.1)

    def test_the_verdict_names_its_reasons(self):
        cases = [
            ({"buffer": {"queued": 170, "capacity": 200}}, "2_red", "85 % full"),
            ({"buffer": {"queued": 110, "capacity": 200}}, "1_yellow", "55 % full"),
            ({"buffer": {"queued": 1, "capacity": 200, "dlq": 2}}, "1_yellow", "2 receipts in the DLQ"),
            (
                {"fn_backlog": {"unconfirmed": 9, "days_to_block": 4.0}},
                "2_red",
                "4.0 days before the FN blocks",
            ),
            (
                {"fn_backlog": {"unconfirmed": 9, "days_to_block": 8.0}},
                "1_yellow",
                "8.0 days before the FN blocks",
            ),
            ({"kkt": "paper_out"}, "2_red", "KKT paper_out"),
            ({"breaker": "OPEN"}, "1_yellow", "circuit breaker OPEN"),
            ({"network": "degraded"}, "1_yellow", "network degraded"),
        ]
        for status, health, reason in cases:
            with self.subTest(status=status):
                self.beat(status=status)
                self.assertEqual(self.till.health, health)
                self.assertIn(reason, self.till.health_reasons)

    def test_a_till_is_lost_after_three_missed_heartbeats(self):
        self.beat()
        self.beat(self.other)
        self.till.last_heartbeat_at = fields.Datetime.now() - timedelta(seconds=91)
        self.other.last_heartbeat_at = fields.Datetime.now() - timedelta(seconds=85)
        self.assertGreaterEqual(self.Till._cron_check_fleet(), 1)
        self.assertEqual((self.till.connection_state, self.till.health), ("lost", "2_red"))
        self.assertIn("no heartbeat since", self.till.health_reasons)
        self.assertEqual(self.other.connection_state, "online")
        self.beat()  # it comes back
        self.assertEqual((self.till.connection_state, self.till.lost_since), ("online", False))

    def test_the_cron_moves_the_fn_verdict_with_time(self):
        self.beat(status={"fn_backlog": {"unconfirmed": 1, "days_to_block": 6.0}})
        self.assertEqual(self.till.health, "1_yellow")
        later = fields.Datetime.now() + timedelta(days=2)
        with patch.object(fields.Datetime, "now", return_value=later):
            self.Till._cron_check_fleet()
        self.assertEqual(self.till.health, "2_red")

    def test_the_fleet_filters_find_their_tills(self):
        self.beat(
            status={"buffer": {"queued": 190, "capacity": 200, "dlq": 1}, "fn_backlog": {"days_to_block": 3}}
        )
        self.beat(self.other)
        action = self.env.ref("optics_pos_ru54fz.action_till")
        view = self.env.ref("optics_pos_ru54fz.till_view_search")
        self.assertEqual(action.res_model, view.model)
        for domain in ([("dlq_size", ">", 0)], [("buffer_percent", ">=", 80)],
                       [("fn_block_at", "<", fields.Datetime.now() + timedelta(days=5))]):  # fmt: skip
            with self.subTest(domain=domain):
                self.assertEqual(self.Till.search(domain), self.till)

    def test_the_daily_digest_goes_to_the_fleet_group(self):
        manager = new_test_user(
            self.env,
            "digest_reader",
            groups="optics_pos_ru54fz.group_fleet_user",
            email="manager@example.com",
        )
        self.beat(status={"kkt": "paper_out"})
        self.Doc._intake(self.till, [receipt(1), receipt(2)])
        mail = self.env["optics.till.digest"]._cron_send_digest()
        self.assertIn(manager.partner_id, mail.recipient_ids)
        self.assertIn("1 critical", mail.subject)
        self.assertIn("KKT paper_out", mail.body_html)
        self.assertIn("Store 1, till 1", mail.body_html)
        self.assertIn("18800.00", mail.body_html)  # the two receipts' total
