"""Admin authentication: ``Authorization: Bearer <admin.token>``; an empty token disables admin endpoints."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any

from flask import current_app, request

from kkt_adapter.web.errors import Problem


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        token = current_app.extensions["kkt"].cfg.admin.token
        if not token:
            raise Problem("admin_disabled", "no admin token is configured on this till")
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            raise Problem("unauthorized", "send Authorization: Bearer <admin token>")
        return view(*args, **kwargs)

    wrapped.admin_required = True  # type: ignore[attr-defined]  # web/cors.py never opens these to browsers
    return wrapped
