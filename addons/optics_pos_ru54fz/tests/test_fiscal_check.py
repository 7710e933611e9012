"""The heartbeat's ``fiscal_check``: which of a till's fiscal documents this server holds, per FN, so a till
sends again what a restore of the server lost (docs/api/odoo-till-contract.md, kkt_adapter.buffer.redelivery).

Through Odoo's HTTP stack like tests/test_till_api.py; the reading of the key (``tools.heartbeat.
fiscal_checks``) also on its own. The same answers are checked against the Odoo stand-in by the contract
suite (tests/integration/test_till_contract.py).
"""

import json

from odoo.tests import HttpCase, tagged

from ..tools.heartbeat import MAX_FISCAL_CHECK, fiscal_checks
from .common import FN_A, FN_B, receipt

API = "/optics_pos_ru54fz/v1"
FN_NONE = "9999078900009999"  # nothing recorded


@tagged("post_install", "-at_install")
class TestFiscalCheck(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.till, cls.other = cls.env["pos.offline.buffer.status"].create(
            [{"name": f"Store {n}, till 1", "pos_id": f"store{n}-till1"} for n in (1, 2)]
        )
        cls.token = cls.till._issue_token()
        Doc = cls.env["optics.fiscal.document"]
        Doc._intake(cls.till, [receipt(fd) for fd in (2, 3, 5, 8)])
        Doc._intake(cls.till, [receipt(4, fn=FN_B)])
        # The KKT (and its FN) moved to another till record: its documents still count for the FN.
        Doc._intake(cls.other, [receipt(9, fn=FN_B)])

    def beat(self, **extra):
        body = {"pos_id": "store1-till1", "hlc": "001795470000000.00001", "sent_at_ms": 1795470000000,
                "status": {"kkt": "ok"}, **extra}  # fmt: skip
        response = self.url_open(
            f"{API}/heartbeat",
            data=json.dumps(body),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def test_per_fn_the_highest_fd_and_the_documents_from_from_fd_on(self):
        checks = [
            {"fn_number": FN_A, "from_fd": 3},
            {"fn_number": FN_B, "from_fd": 1},
            {"fn_number": FN_NONE, "from_fd": 1},
        ]
        self.assertEqual(
            self.beat(fiscal_check=checks)["fiscal_documents"],
            {
                FN_A: {"from_fd": 3, "max_fd": 8, "count": 3},
                FN_B: {"from_fd": 1, "max_fd": 9, "count": 2},
                FN_NONE: {"from_fd": 1, "max_fd": 0, "count": 0},
            },
        )
        answer = self.beat(fiscal_check=[{"fn_number": FN_A, "from_fd": 9}])["fiscal_documents"]
        self.assertEqual(answer, {FN_A: {"from_fd": 9, "max_fd": 8, "count": 0}})

    def test_an_adapter_that_does_not_ask_gets_the_answer_it_always_got(self):
        self.assertEqual(set(self.beat()), {"server_time_ms"})
        self.till.invalidate_recordset()
        self.assertEqual(self.till.connection_state, "online")

    def test_a_malformed_check_is_skipped_never_refused(self):
        for value in ("x", 7, {"fn_number": FN_A, "from_fd": 1}, None):
            with self.subTest(value=value):
                self.assertNotIn("fiscal_documents", self.beat(fiscal_check=value))
        junk = [1, "x", {"fn_number": FN_A}, {"fn_number": FN_A, "from_fd": 0},
                {"fn_number": FN_A, "from_fd": True}, {"fn_number": FN_A[:15], "from_fd": 1},
                {"fn_number": FN_A, "from_fd": 2**32}]  # fmt: skip
        self.assertEqual(self.beat(fiscal_check=junk)["fiscal_documents"], {})
        self.assertEqual(self.beat(fiscal_check=[])["fiscal_documents"], {})

    def test_reading_the_key(self):
        self.assertIsNone(fiscal_checks(None))
        many = [{"fn_number": str(n) * 16, "from_fd": n + 1} for n in range(6)]
        self.assertEqual(
            fiscal_checks([many[0], {"fn_number": many[0]["fn_number"], "from_fd": 7}, *many[1:]]),
            [(str(n) * 16, n + 1) for n in range(MAX_FISCAL_CHECK)],
        )
