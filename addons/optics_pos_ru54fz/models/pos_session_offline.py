"""Order names stay unique when the POS reopens offline: the session's login numbers.

Odoo names a POS order ``<session>-<login>-<sequence>``; the login number comes from ``pos.session.login()``
each time ``/pos/ui`` renders. A POS page reopened offline from the service worker's copy carries the number
of the load it was copied from, so the POS (static/src/app/login_numbers.js) continues from the highest
number it used on that till instead, and reports it here when Odoo is back (``optics_reserve_login``).
Orders carry the number in their name too: recording one moves the session's number past it
(``_optics_reserve_from_names``), so a number used offline is never handed out again even if the report
itself never arrived.
"""

import re

from odoo import _, api, models
from odoo.exceptions import UserError

#: ``<session>-<login>-<sequence>`` at the end of the order's name (Odoo pads them to 5-3-4 digits).
ORDER_UID = re.compile(r"(\d{5,})-(\d{3,})-(\d{4,})$")
#: Far above any real count of POS reloads in one session: a larger number is a bug, not a reload.
MAX_LOGIN_NUMBER = 1_000_000


class PosLoginNumbers(models.AbstractModel):
    """Mixed into ``pos.session`` (models/pos_session.py): the login numbers of one session."""

    _name = "optics.pos.login.numbers"
    _description = "POS session login numbers"

    def optics_reserve_login(self, login_number):
        """Move the session's login number up to ``login_number`` (never down); returns the new number."""
        self.ensure_one()
        if not isinstance(login_number, int) or isinstance(login_number, bool):
            raise UserError(_("The session login number must be an integer, not %r.", login_number))
        if not 0 < login_number <= MAX_LOGIN_NUMBER:
            raise UserError(
                _(
                    "The session login number %(number)s is outside 1…%(max)s.",
                    number=login_number,
                    max=MAX_LOGIN_NUMBER,
                )
            )
        self.check_access_rights("read")
        self.check_access_rule("read")
        return self._optics_reserve(login_number)

    def _optics_reserve(self, login_number):
        # One statement: two POS tabs or a late order racing the report both end at the maximum.
        self.flush_recordset(["login_number"])
        self.env.cr.execute(
            "UPDATE pos_session SET login_number = GREATEST(login_number, %s) WHERE id = %s"
            " RETURNING login_number",
            (login_number, self.id),
        )
        (number,) = self.env.cr.fetchone()
        self.invalidate_recordset(["login_number"])
        return number

    @api.model
    def _optics_reserve_from_names(self, session_id, names):
        """The login numbers found in these order names of ``session_id`` are taken: reserve the highest."""
        numbers = []
        for name in names:
            match = ORDER_UID.search(name or "")
            if match and int(match.group(1)) == session_id:
                numbers.append(int(match.group(2)))
        numbers = [n for n in numbers if 0 < n <= MAX_LOGIN_NUMBER]
        if numbers:
            self.browse(session_id)._optics_reserve(max(numbers))
