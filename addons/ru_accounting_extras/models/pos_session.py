# The store's cash limit at the close of a POS session: the closing popup shows the cashier, as the cash is
# counted, whether it will leave the store above its limit; the closing goes through, but cash left above the
# limit is reported in the session's chatter, as a To Do for the store's accountants, and to the POS.
from odoo import _, fields, models
from odoo.tools import float_compare
from odoo.tools.misc import format_amount

#: The accountants who get the To Do: store accountants whose Stores include the session's store.
ACCOUNTANT_GROUP = "ru_accounting_extras.group_store_accountant"


class PosSession(models.Model):
    _inherit = "pos.session"  # pylint: disable=consider-merging-classes-inherited

    def _validate_session(self, balancing_account=False, amount_to_balance=0, bank_payment_method_diffs=None):
        # Odoo's closing (back office and POS alike): True once closed, an action when it needs a wizard.
        result = super()._validate_session(balancing_account, amount_to_balance, bank_payment_method_diffs)
        if not isinstance(result, dict) and self.state == "closed":
            self._ru_report_cash_limit()
        return result

    def close_session_from_ui(self, bank_payment_method_diff_pairs=None):
        result = super().close_session_from_ui(bank_payment_method_diff_pairs)
        if isinstance(result, dict) and result.get("successful"):
            warning = self._ru_cash_limit_warning()
            if warning:
                result["ru_cash_limit_warning"] = warning
        return result

    def get_closing_control_data(self):
        """Odoo's closing popup data, plus the store's cash limit for the popup's live check:

        - ``ru_cash_limit``: the store's limit, 0 when there is none to check against (no store, no cash
          account, no limit, this session's cash not booked to the store's cash account, or the POS in
          another currency than the company's books);
        - ``ru_cash_other``: the store's cash other than this drawer's: the cash account's posted balance
          less what of this drawer is already posted on it (the opening cash the last session left, and
          the cash moved in and out during the session). Closing books the counted cash on top of it, so
          ``ru_cash_other`` + counted cash is the balance the close leaves, the figure the warning after
          the close is about."""
        data = super().get_closing_control_data()
        _store, account, limit, balance = self._ru_cash_limit_position()
        drawer = data.get("default_cash_details")
        currency = self.company_id.currency_id
        booked_to = self.sudo().cash_journal_id.default_account_id
        if not limit or not drawer or booked_to != account or self.currency_id != currency:
            data.update(ru_cash_limit=0.0, ru_cash_other=0.0)
            return data
        # Odoo's expected drawer (opening + cash payments + cash in/out) less the cash payments, which the
        # close posts: the drawer's cash already on the account.
        posted_drawer = drawer["amount"] - drawer["payment_amount"]
        data.update(ru_cash_limit=limit, ru_cash_other=currency.round(balance - posted_drawer))
        return data

    def _ru_store(self):
        """The session's store: the warehouse of its POS's operation type."""
        self.ensure_one()
        return self.config_id.picking_type_id.warehouse_id

    def _ru_cash_limit_position(self):
        """(store, its cash account, its cash limit, the account's posted balance), read as superuser (the
        cashier has no accounting rights). No store, no cash account or no limit (0): the limit and the
        balance are 0.0 (nothing to check)."""
        self.ensure_one()
        store = self.sudo()._ru_store()
        account = store.ru_cash_account_id
        limit = store.ru_cash_limit
        currency = self.company_id.currency_id
        if not account or float_compare(limit, 0.0, precision_rounding=currency.rounding) <= 0:
            return store, account, 0.0, 0.0
        [(balance,)] = (
            self.env["account.move.line"]
            .sudo()
            ._read_group(
                [("account_id", "=", account.id), ("parent_state", "=", "posted")],
                aggregates=["balance:sum"],
            )
        )
        return store, account, limit, balance or 0.0

    def _ru_cash_limit_warning(self):
        """The warning text when the store's cash account holds more than its limit (posted entries, after
        the close), else an empty string. No limit (0) or no cash account set up: no warning."""
        self.ensure_one()
        store, account, limit, balance = self._ru_cash_limit_position()
        currency = self.company_id.currency_id
        if not limit or float_compare(balance, limit, precision_rounding=currency.rounding) <= 0:
            return ""
        return _(
            "Cash limit exceeded at %(store)s after closing %(session)s: the cash account %(account)s holds "
            "%(balance)s, the limit is %(limit)s, the excess of %(excess)s must be taken to the bank.",
            store=store.name,
            session=self.name,
            account=account.code,
            balance=format_amount(self.env, balance, currency),
            limit=format_amount(self.env, limit, currency),
            excess=format_amount(self.env, balance - limit, currency),
        )

    def _ru_report_cash_limit(self):
        """Post the cash-limit warning on the session and give its store's accountants a To Do (the session's
        responsible when the store has none)."""
        self.ensure_one()
        warning = self._ru_cash_limit_warning()
        if not warning:
            return
        session = self.sudo()
        session.message_post(body=warning, subtype_xmlid="mail.mt_note")
        store = session._ru_store()
        accountants = (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("groups_id", "in", self.env.ref(ACCOUNTANT_GROUP).id),
                    ("optics_store_ids", "in", store.id),
                    ("share", "=", False),
                ]
            )
        )
        for user in accountants or session.user_id:
            session.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=fields.Date.context_today(self),
                summary=_("Cash limit exceeded: %s", store.name),
                note=warning,
                user_id=user.id,
            )
