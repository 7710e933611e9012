"""The fleet page in a real browser (a tour in Chromium): kanban by verdict, list, filter, form."""

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestFleetPage(HttpCase):
    def test_the_fleet_page_shows_the_verdicts(self):
        Till = self.env["pos.offline.buffer.status"]
        red = Till.create({"name": "Tour till red", "pos_id": "tour-red"})
        green = Till.create({"name": "Tour till green", "pos_id": "tour-green"})
        red._record_heartbeat("001795470000000.00000", {"kkt": "paper_out", "buffer": {"dlq": 2}}, 0)
        green._record_heartbeat("001795470000000.00000", {"kkt": "ok", "network": "online"}, 0)
        self.assertEqual((red.health, green.health), ("2_red", "0_green"))
        self.start_tour(
            "/web#action=optics_pos_ru54fz.action_till", "optics_pos_ru54fz_fleet_page", login="admin"
        )
        # The tour's last steps renamed the till: it really ran in Chromium (a failed start is only a skip).
        self.assertEqual(red.name, "Tour till red, seen")
