"""Problem documents for every error on the till API's routes, Odoo's own 404/405/413/500 included.

Odoo answers an unknown path, a wrong method, an oversized body or an exception with an HTML page; a till
would store that page's text as a DLQ reason. On ``/optics_pos_ru54fz/`` they become problem+json with
the contract's codes.
"""

import logging

from werkzeug.exceptions import HTTPException

from odoo import models
from odoo.http import request

from ..tools.problem import API_PREFIX, CODES, ApiError, problem

_logger = logging.getLogger(__name__)


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _handle_error(cls, exception):
        if not request.httprequest.path.startswith(API_PREFIX):
            return super()._handle_error(exception)
        if isinstance(exception, ApiError):
            return problem(exception.status, exception.detail, exception.headers, exception.code)
        if isinstance(exception, HTTPException) and exception.code in CODES:
            return problem(exception.code, exception.description or exception.name)
        _logger.exception("till API %s failed", request.httprequest.path)
        return problem(500, "Odoo failed to process the request; the till retries it")
