"""Logging of the adapter to stderr (journald on the till) with the structured fields operators grep for.

Records may carry ``extra={"RECEIPT_ID": ..., "FD": ..., "IDEMPOTENCY_KEY": ...}``; they are appended as
``KEY=value`` after the message, and every line carries ``POS_ID``.
"""

from __future__ import annotations

import logging
import sys

FIELDS = ("RECEIPT_ID", "IDEMPOTENCY_KEY", "FD")
_MARK = "_kkt_adapter_handler"


class FieldsFormatter(logging.Formatter):
    def __init__(self, pos_id: str):
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self.pos_id = pos_id

    def format(self, record: logging.LogRecord) -> str:
        fields = [f"POS_ID={self.pos_id}"]
        fields += [f"{name}={getattr(record, name)}" for name in FIELDS if hasattr(record, name)]
        return f"{super().format(record)} {' '.join(fields)}"


def configure(level: str, pos_id: str) -> None:
    """Install (once per process) the stderr handler of the ``kkt_adapter`` logger tree."""
    logger = logging.getLogger("kkt_adapter")
    logger.setLevel(level.upper())
    if any(getattr(h, _MARK, False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(FieldsFormatter(pos_id))
    setattr(handler, _MARK, True)
    logger.addHandler(handler)
    logger.propagate = False
