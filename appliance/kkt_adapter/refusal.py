"""``Refusal``: the base of every expected refusal the till's domain raises, free of any HTTP knowledge.

A refusal carries a stable machine ``code`` (the same word the POS, kktctl and the runbooks use), a
human ``detail`` and optional ``extra`` fields for the answer. The web layer's one table
(``web/problems.py``) gives each code its HTTP status and title; ``kktctl`` prints the detail.
"""

from __future__ import annotations

from typing import Any, ClassVar


class Refusal(Exception):
    """An expected refusal: ``code`` (fixed by the subclass or given per instance), ``detail``, ``extra``."""

    code: ClassVar[str] = "refused"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any):
        super().__init__(detail)
        if code is not None:
            self.code = code  # type: ignore[misc] - a per-instance code (RefundRefused, OperationError)
        self.detail = detail
        self.extra = extra
