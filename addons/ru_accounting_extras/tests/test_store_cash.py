# Tests of the store's cash set-up (account 50.01.NN, cash journal, the POS configs' cash method) and of the
# cash over/short posted at the close of a POS session to the store journal's 91.01 / 94.
from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .store_cash_common import StoreCashCommon


@tagged("post_install", "-at_install")
class TestStoreCash(StoreCashCommon):
    def test_two_stores_get_their_account_and_journal(self):
        (self.store_a | self.store_b).action_ru_setup_cash()
        over, short = self.chart.ref("ru_acc_91_01"), self.chart.ref("ru_acc_94")
        # The chart has no 50.01.NN: the stores take 01 and 02 in turn, journals CS01 and CS02.
        for store, code, journal_code in (
            (self.store_a, "50.01.01", "CS01"),
            (self.store_b, "50.01.02", "CS02"),
        ):
            account, journal = store.ru_cash_account_id, store.ru_cash_journal_id
            self.assertEqual((account.code, account.account_type), (code, "asset_cash"), store.name)
            self.assertEqual(account.company_id, self.company)
            self.assertEqual((journal.type, journal.code), ("cash", journal_code), store.name)
            self.assertEqual(journal.default_account_id, account)
            self.assertEqual((journal.profit_account_id.code, journal.loss_account_id.code), ("91.01", "94"))
            self.assertEqual((journal.profit_account_id, journal.loss_account_id), (over, short))

    def test_setup_twice_creates_nothing(self):
        stores = self.store_a | self.store_b
        stores.action_ru_setup_cash()
        before = {
            model: self.env[model].search_count([])
            for model in ("account.account", "account.journal", "pos.payment.method")
        }
        settings = [
            (s.ru_cash_account_id, s.ru_cash_journal_id, self.cash_methods(c)) for s, c in self._pairs()
        ]
        stores.action_ru_setup_cash()
        after = {model: self.env[model].search_count([]) for model in before}
        self.assertEqual(after, before)
        self.assertEqual(
            [(s.ru_cash_account_id, s.ru_cash_journal_id, self.cash_methods(c)) for s, c in self._pairs()],
            settings,
        )

    def _pairs(self):
        return ((self.store_a, self.config_a), (self.store_b, self.config_b))

    def test_each_store_config_gets_its_store_cash_method(self):
        """Each till's own cash method moves to its store's journal; card payments stay as they were."""
        (self.store_a | self.store_b).action_ru_setup_cash()
        self.assertEqual(self.cash_methods(self.config_a), self.cash_a)
        self.assertEqual(self.cash_methods(self.config_b), self.cash_b)
        self.assertEqual(self.cash_a.journal_id, self.store_a.ru_cash_journal_id)
        self.assertEqual(self.cash_b.journal_id, self.store_b.ru_cash_journal_id)
        for config in (self.config_a, self.config_b):
            self.assertEqual(config.payment_method_ids - self.cash_methods(config), self.card, config.name)

    def test_a_cash_method_shared_by_two_stores_is_replaced_for_the_second(self):
        """Till B shares till A's cash method, as data from before Odoo allowed one config per cash method.
        Store B's set-up gives till B a copy on B's journal and leaves A's method to A; store A's set-up then
        moves it (now A's alone) to A's journal."""
        # Odoo's constraint on pos.config stops the ORM from sharing it: write the relation directly.
        relation = self.env["pos.config"]._fields["payment_method_ids"].relation
        self.assertEqual(relation, "pos_config_pos_payment_method_rel")
        self.env.cr.execute(
            "UPDATE pos_config_pos_payment_method_rel SET pos_payment_method_id = %s"
            " WHERE pos_config_id = %s AND pos_payment_method_id = %s",
            [self.cash_a.id, self.config_b.id, self.cash_b.id],
        )
        self.env.invalidate_all()
        old_journal = self.cash_a.journal_id
        self.assertEqual(self.cash_methods(self.config_b), self.cash_a)
        self.assertEqual(self.cash_a.config_ids, self.config_a | self.config_b)

        self.store_b.action_ru_setup_cash()
        own_b = self.cash_methods(self.config_b)
        self.assertEqual(len(own_b), 1)
        self.assertNotEqual(own_b, self.cash_a)
        self.assertEqual(own_b.name, "Cash Store B, Till B")
        self.assertEqual(own_b.journal_id, self.store_b.ru_cash_journal_id)
        self.assertEqual(self.cash_a.config_ids, self.config_a)
        self.assertEqual(self.cash_a.journal_id, old_journal)

        self.store_a.action_ru_setup_cash()
        self.assertEqual(self.cash_methods(self.config_a), self.cash_a)
        self.assertEqual(self.cash_a.journal_id, self.store_a.ru_cash_journal_id)
        self.assertEqual(self.cash_methods(self.config_b), own_b)

    def test_a_second_till_gets_its_own_journal_on_the_store_account(self):
        """Store A's second till, card only: a new cash method on a journal of its own (Odoo: one cash journal
        per cash method) whose account is the store's 50.01.01, over 91.01, short 94."""
        card_only = self._store_config("Till A2", self.store_a, self.card)
        self.store_a.action_ru_setup_cash()
        self.assertEqual(self.cash_a.journal_id, self.store_a.ru_cash_journal_id)
        new = self.cash_methods(card_only)
        self.assertEqual(len(new), 1)
        self.assertEqual(new.name, "Cash Store A, Till A2")
        journal = new.journal_id
        self.assertNotEqual(journal, self.store_a.ru_cash_journal_id)
        self.assertEqual((journal.type, journal.name), ("cash", "Cash Store A, Till A2"))
        self.assertEqual(journal.default_account_id.code, "50.01.01")
        self.assertEqual((journal.profit_account_id.code, journal.loss_account_id.code), ("91.01", "94"))
        # A third run adds nothing: both tills are on the store's account.
        journals = self.env["account.journal"].search_count([])
        self.store_a.action_ru_setup_cash()
        self.assertEqual(self.env["account.journal"].search_count([]), journals)
        self.assertEqual(self.cash_methods(card_only), new)

    def test_refused_while_a_session_of_the_store_is_open(self):
        self.config = self.config_a
        session = self.open_new_session(0)
        accounts = self.env["account.account"].search_count([])
        with self.assertRaisesRegex(UserError, f"Store A: close the open POS sessions \\({session.name}\\)"):
            self.store_a.action_ru_setup_cash()
        self.assertEqual(self.env["account.account"].search_count([]), accounts)
        self.assertFalse(self.store_a.ru_cash_account_id)
        # Store B's till has no open session: its set-up goes through.
        self.store_b.action_ru_setup_cash()
        self.assertEqual(self.cash_methods(self.config_b).journal_id, self.store_b.ru_cash_journal_id)

    def test_open_session_does_not_block_a_store_already_set_up(self):
        self.store_a.action_ru_setup_cash()
        self.config = self.config_a
        self.open_new_session(0)
        account = self.store_a.ru_cash_account_id
        self.store_a.action_ru_setup_cash()  # nothing to change: no refusal
        self.assertEqual(self.store_a.ru_cash_account_id, account)

    def test_refused_off_the_russian_chart(self):
        company = self.env["res.company"].sudo().create({"name": "Generic chart Co"})
        self.env["account.chart.template"].sudo().try_loading("generic_coa", company, install_demo=False)
        store = self.env["stock.warehouse"].sudo().search([("company_id", "=", company.id)], limit=1)
        self.assertTrue(store)
        with self.assertRaisesRegex(UserError, "not on the Russian chart of accounts"):
            store.sudo().action_ru_setup_cash()  # sudo: the user is not in that company
        self.assertFalse(store.ru_cash_account_id)

    def test_refused_to_users_other_than_the_chief_accountant(self):
        clerk = self.env["res.users"].create(
            {
                "name": "Clerk",
                "login": "ru_cash_clerk",
                "groups_id": [Command.set([self.env.ref("account.group_account_manager").id])],
            }
        )
        with self.assertRaises(AccessError):
            self.store_a.with_user(clerk).action_ru_setup_cash()
        self.assertFalse(self.store_a.ru_cash_account_id)

    def test_cash_short_goes_to_94(self):
        """Sales 1 500.00 in cash, 1 480.00 counted: short 20.00 → Dt 94 20.00, Ct 50.01.01 20.00; the store's
        cash account holds 1 500.00 − 20.00 = 1 480.00; nothing on 91.01."""
        self.store_a.action_ru_setup_cash()
        session, result = self.sell_and_close(self.config_a, 1, 1480.0)
        self.assertTrue(result["successful"], result)
        self.assertEqual(session.state, "closed")
        short_lines = self._difference_lines(session, "ru_acc_94")
        self.assertEqual((sum(short_lines.mapped("debit")), sum(short_lines.mapped("credit"))), (20.0, 0.0))
        self.assertFalse(self._difference_lines(session, "ru_acc_91_01"))
        self.assertAlmostEqual(self.balance(self.store_a.ru_cash_account_id), 1480.0)
        self.assertAlmostEqual(self.balance(self.chart.ref("ru_acc_94")), 20.0)

    def test_cash_over_goes_to_91_01(self):
        """Sales 1 500.00, 1 510.00 counted: over 10.00 → Dt 50.01.01 10.00, Ct 91.01 10.00; cash account
        1 510.00; nothing on 94."""
        self.store_a.action_ru_setup_cash()
        session, result = self.sell_and_close(self.config_a, 1, 1510.0)
        self.assertTrue(result["successful"], result)
        over_lines = self._difference_lines(session, "ru_acc_91_01")
        self.assertEqual((sum(over_lines.mapped("debit")), sum(over_lines.mapped("credit"))), (0.0, 10.0))
        self.assertFalse(self._difference_lines(session, "ru_acc_94"))
        self.assertAlmostEqual(self.balance(self.store_a.ru_cash_account_id), 1510.0)

    def test_exact_count_posts_no_difference(self):
        """Two frames, 3 000.00 counted = 2 × 1 500.00: nothing on 91.01 nor 94; the store's account holds
        3 000.00."""
        self.store_a.action_ru_setup_cash()
        session, _result = self.sell_and_close(self.config_a, 2, 3000.0)
        self.assertFalse(
            self._difference_lines(session, "ru_acc_91_01") | self._difference_lines(session, "ru_acc_94")
        )
        self.assertAlmostEqual(self.balance(self.store_a.ru_cash_account_id), 3000.0)

    def _difference_lines(self, session, xmlid):
        """The entries of the session's cash statement lines on an account (the counted difference's
        counterpart)."""
        return session.statement_line_ids.move_id.line_ids.filtered(
            lambda line: line.account_id == self.chart.ref(xmlid)
        )
