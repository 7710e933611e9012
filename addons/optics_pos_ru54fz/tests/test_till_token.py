"""Till tokens: hashed at rest, shown once, rotated with an overlap, revoked, administrators only."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user

from ..models.till_token import token_hash
from .common import TillCase


class TestTillToken(TillCase):
    def authenticate(self, token):
        return self.Till._authenticate_token(token)

    def test_a_token_is_stored_only_as_its_hash(self):
        self.assertEqual(self.authenticate(self.token), self.till)
        self.assertEqual(self.till.token_hash, token_hash(self.token))
        self.env.flush_all()
        self.env.cr.execute("SELECT * FROM pos_offline_buffer_status WHERE id = %s", [self.till.id])
        row = self.env.cr.fetchone()
        self.assertFalse([value for value in row if isinstance(value, str) and self.token in value])
        self.assertFalse(self.authenticate("not-a-token"))
        self.assertFalse(self.authenticate(""))

    def test_rotation_keeps_the_old_token_for_the_overlap_only(self):
        new = self.till._issue_token()
        self.assertNotEqual(new, self.token)
        self.assertEqual(self.authenticate(new), self.till)
        self.assertEqual(self.authenticate(self.token), self.till)  # in flight: still accepted
        overlap = self.till.previous_token_valid_until - self.till.token_issued_at
        self.assertEqual(overlap, timedelta(minutes=60))
        self.till.previous_token_valid_until = fields.Datetime.now() - timedelta(seconds=1)
        self.assertFalse(self.authenticate(self.token))
        self.assertEqual(self.authenticate(new), self.till)
        newest = self.till._issue_token()  # the overlap is for the token just replaced, not older ones
        self.assertFalse(self.authenticate(self.token))
        self.assertEqual(self.authenticate(newest), self.till)

    def test_the_overlap_is_configurable(self):
        self.env["ir.config_parameter"].set_param("optics_pos_ru54fz.token_overlap_minutes", "5")
        self.till._issue_token()
        self.assertEqual(
            self.till.previous_token_valid_until - self.till.token_issued_at, timedelta(minutes=5)
        )

    def test_revoked_and_archived_tills_are_refused(self):
        self.till.action_revoke_tokens()
        self.assertFalse(self.authenticate(self.token))
        self.assertFalse(self.till.has_token)
        self.assertEqual(self.authenticate(self.other_token), self.other)
        self.other.active = False
        self.assertFalse(self.authenticate(self.other_token))

    def test_the_dialog_shows_the_token_once_and_never_stores_it(self):
        action = self.till.action_issue_token()
        clear = action["context"]["optics_clear_token"]
        self.assertEqual(self.authenticate(clear), self.till)
        reveal = self.env["optics.till.token.reveal"].browse(action["res_id"])
        self.assertEqual(reveal.with_context(**action["context"]).token, clear)
        self.assertFalse(reveal.with_context(optics_clear_token=None).token)
        self.assertFalse(self.env["optics.till.token.reveal"]._fields["token"].store)

    def test_only_administrators_issue_tokens_or_read_their_hashes(self):
        manager = new_test_user(self.env, "fleet_manager", groups="optics_pos_ru54fz.group_fleet_user")
        till = self.till.with_user(manager)
        with self.assertRaises(AccessError):
            till._issue_token()
        with self.assertRaises(AccessError):
            till.action_revoke_tokens()
        with self.assertRaises(AccessError):
            till.read(["token_hash"])
        self.assertTrue(till.has_token)  # the fact, not the hash
        admin = new_test_user(self.env, "fleet_admin", groups="optics_pos_ru54fz.group_fleet_admin")
        self.assertTrue(self.till.with_user(admin)._issue_token())
