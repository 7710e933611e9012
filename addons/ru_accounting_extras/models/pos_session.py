# The store's cash limit at the close of a POS session: the closing goes through, but cash left above the
# limit is reported in the session's chatter, as a To Do for the store's accountants, and to the POS.
from odoo import _, fields, models
from odoo.tools import float_compare
from odoo.tools.misc import format_amount

#: The accountants who get the To Do: store accountants whose Stores include the session's store.
ACCOUNTANT_GROUP = "ru_accounting_extras.group_store_accountant"


class PosSession(models.Model):
    _inherit = "pos.session"

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

    def _ru_store(self):
        """The session's store: the warehouse of its POS's operation type."""
        self.ensure_one()
        return self.config_id.picking_type_id.warehouse_id

    def _ru_cash_limit_warning(self):
        """The warning text when the store's cash account holds more than its limit (posted entries, after
        the close), else an empty string. No limit (0) or no cash account set up: no warning."""
        self.ensure_one()
        store = self.sudo()._ru_store()
        account = store.ru_cash_account_id
        limit = store.ru_cash_limit
        currency = self.company_id.currency_id
        if not account or float_compare(limit, 0.0, precision_rounding=currency.rounding) <= 0:
            return ""
        [(balance,)] = (
            self.env["account.move.line"]
            .sudo()
            ._read_group(
                [("account_id", "=", account.id), ("parent_state", "=", "posted")],
                aggregates=["balance:sum"],
            )
        )
        balance = balance or 0.0
        if float_compare(balance, limit, precision_rounding=currency.rounding) <= 0:
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
