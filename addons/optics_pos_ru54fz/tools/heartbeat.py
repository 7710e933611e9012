"""The till's heartbeat (every 30 s): the till record's fields from what it carries (no ORM).

The ``status`` object is the till's own (``kkt_adapter.status.TillStatus.heartbeat_payload``); the keys
read here are documented in docs/api/odoo-till-contract.md. A value of the wrong type is ignored, not
refused: an older or newer adapter must never lose its heartbeat over one field.

``fiscal_check`` asks which of the till's fiscal documents Odoo holds, so the till sends again what a
restore of this server lost (``kkt_adapter.buffer.redelivery``); ``fiscal_checks`` reads it the same
forgiving way — an entry that is not well-formed is left out, never refused.
"""

import json
from datetime import UTC, date, datetime, timedelta

import pytz

from .receipt_check import FN_NUMBER, MAX_FD, is_int

NETWORK_STATES = ("online", "degraded", "offline", "unknown")
#: The raw status is kept for the till's form; a till's status is ~1 KiB, a bigger one is not worth a row
#: rewritten every 30 s.
MAX_RAW_STATUS_BYTES = 64 * 1024
BREAKER_STATES = ("CLOSED", "HALF_OPEN", "OPEN")
#: FNs answered per heartbeat (the till asks about its newest few); entries beyond are not answered.
MAX_FISCAL_CHECK = 4


def _size(value):
    return len(json.dumps(value, ensure_ascii=False).encode("utf-8"))


def _dict(value):
    return value if isinstance(value, dict) else {}


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _utc(value, tz):
    """An ISO date-time as naive UTC, or None; a naive one is the FN's clock, which keeps the store's time."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = pytz.timezone(tz).localize(parsed)
    return parsed.astimezone(UTC).replace(tzinfo=None)


def _date(value):
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def heartbeat_values(hlc, status, now, now_ms, tz="UTC"):
    """The till record's fields from one heartbeat (pure: ``now`` is Odoo's naive UTC time)."""
    buffer, backlog = _dict(status.get("buffer")), _dict(status.get("fn_backlog"))
    queued, capacity = buffer.get("queued"), buffer.get("capacity")
    percent = _number(buffer.get("percent_full"))
    if percent is None and is_int(queued, 0, 2**31) and is_int(capacity, 1, 2**31):
        percent = 100.0 * queued / capacity
    days_to_block = _number(backlog.get("days_to_block"))
    values = {
        "last_heartbeat_at": now,
        "last_hlc": hlc,
        "hlc_drift_ms": max(-(2**31), min(2**31 - 1, int(hlc[:15]) - now_ms)),
        "buffer_queued": queued if is_int(queued, 0, 2**31 - 1) else 0,
        "buffer_capacity": capacity if is_int(capacity, 0, 2**31 - 1) else 0,
        "buffer_percent": percent or 0.0,
        "dlq_size": buffer.get("dlq") if is_int(buffer.get("dlq"), 0, 2**31 - 1) else 0,
        "network_state": status.get("network") if status.get("network") in NETWORK_STATES else False,
        "breaker_state": status.get("breaker") if status.get("breaker") in BREAKER_STATES else False,
        "kkt_state": status.get("kkt") if isinstance(status.get("kkt"), str) else False,
        "fn_unconfirmed": backlog.get("unconfirmed")
        if is_int(backlog.get("unconfirmed"), 0, 2**31 - 1)
        else 0,
        "fn_oldest_unconfirmed_at": _utc(backlog.get("oldest_unconfirmed_at"), tz) or False,
        # The till counts the days in the FN's own clock; Odoo anchors them to its own.
        "fn_block_at": now + timedelta(days=days_to_block) if days_to_block is not None else False,
        "fn_expires_on": _date(backlog.get("fn_expires_on")) or False,
        "adapter_version": status.get("version") if isinstance(status.get("version"), str) else False,
        "last_status": status if _size(status) <= MAX_RAW_STATUS_BYTES else {"omitted": "status over 64 KiB"},
    }
    fn_number = status.get("fn_number") or backlog.get("fn_number")
    if isinstance(fn_number, str) and fn_number:
        values["fn_number"] = fn_number[:16]
    return values


def fiscal_checks(value):
    """``[(fn_number, from_fd)]`` from the heartbeat's ``fiscal_check``, or None when it is not a list.

    Well-formed entries only (``{"fn_number": 16 digits, "from_fd": 1..2^32-1}``), an FN once (its first
    entry), at most ``MAX_FISCAL_CHECK``; anything else is skipped, never refused (module docstring)."""
    if not isinstance(value, list):
        return None
    checks = {}
    for entry in value:
        if len(checks) == MAX_FISCAL_CHECK:
            break
        if not isinstance(entry, dict):
            continue
        fn_number, from_fd = entry.get("fn_number"), entry.get("from_fd")
        if isinstance(fn_number, str) and FN_NUMBER.fullmatch(fn_number) and is_int(from_fd, 1, MAX_FD):
            checks.setdefault(fn_number, from_fd)
    return list(checks.items())
