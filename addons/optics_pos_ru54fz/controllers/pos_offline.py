"""The POS service worker's script (static/src/sw/pos_offline_sw.js) at ``/pos/optics-sw.js``.

Served from under ``/pos/`` so that its scope covers the POS page (``/pos/ui``) without widening it to
the back office; ``no-cache`` so that the browser checks for a new version on each POS start (a
service worker script is otherwise kept up to 24 h). Public: it holds no data, only code.
"""

from odoo import http
from odoo.http import request
from odoo.tools import file_open

SCRIPT = "optics_pos_ru54fz/static/src/sw/pos_offline_sw.js"
SCOPE = "/pos/"


class PosOffline(http.Controller):
    @http.route("/pos/optics-sw.js", type="http", auth="public", methods=["GET"])
    def service_worker(self):
        with file_open(SCRIPT, "rb") as script:
            body = script.read()
        return request.make_response(
            body,
            [
                ("Content-Type", "text/javascript; charset=utf-8"),
                ("Cache-Control", "no-cache"),
                ("Service-Worker-Allowed", SCOPE),
            ],
        )
