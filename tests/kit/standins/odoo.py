"""Odoo stand-in: the till contract of the ``optics_pos_ru54fz`` addon (printed receipts and heartbeats).

    python -m tests.kit.standins.odoo --listen HOST:PORT [--state-dir DIR] [--token [POS_ID=]TOKEN ...]

Every API call needs ``Authorization: Bearer <till token>`` (401 otherwise); a token given as ``POS_ID=TOKEN``
only posts for that till (403 for another ``pos_id``). ``POST /optics_pos_ru54fz/v1/receipts`` records up to
100 printed receipts, idempotent on ``receipt_id`` + FD: ``created`` (new), ``duplicate`` (same receipt_id, FN
and FD again; a success for the till) or ``rejected`` with a reason (invalid fields, receipt_id reused with
another FN/FD, FN+FD already owned by another receipt, refund of an unknown receipt). ``POST
/optics_pos_ru54fz/v1/heartbeat`` keeps the last heartbeat per till and answers ``fiscal_documents`` for
the FNs of ``fiscal_check`` from the receipts recorded. Both answer ``server_time_ms`` (+ ``clock_skew_ms``
of the mode). ``POST /control/forget`` drops recorded receipts as a restore of Odoo's database to an earlier
point would (the tills send them again, kkt_adapter/buffer/redelivery.py). The contract is
docs/api/odoo-till-contract.md.
"""

from __future__ import annotations

import argparse
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, request

from tests.kit.standins.common import (
    FN_NUMBER,
    U32_MAX,
    ApiError,
    ControlClient,
    Standin,
    batch,
    is_int,
    json_body,
    main,
    now_ms,
)

API = "/optics_pos_ru54fz/v1"
DEFAULT_TOKEN = "standin-till-token"
KINDS = ("sale", "refund", "correction")
HLC = re.compile(r"[0-9]{15}\.[0-9]{5}")  # use fullmatch  # str(kkt_adapter.hlc.Timestamp)
MAX_TOTAL = 10**13  # kopecks (the FFD money field holds 5 bytes)
MAX_FISCAL_SIGN = (1 << 48) - 1  # 1077 is at most 6 bytes
MAX_POS_ID = 64
MAX_FISCAL_CHECK = 4  # FNs answered per heartbeat (the addon's tools/heartbeat.py)
REJECTED_BY_MODE = "rejected by Odoo (test mode)"


class Rejected(Exception):
    """A receipt cannot be recorded; the message is the reason returned to the till."""


def _uuid(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise Rejected(f"'{field}' must be a UUID string")
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise Rejected(f"'{field}' is not a UUID: {value!r}") from exc


def check_receipt(item: dict[str, Any]) -> dict[str, Any]:
    """Validate one receipt's fields; returns the normalised record or raises Rejected."""
    receipt_id = _uuid(item.get("receipt_id"), "receipt_id")
    fn = item.get("fn_number")
    if not isinstance(fn, str) or not FN_NUMBER.fullmatch(fn):
        raise Rejected("'fn_number' must be a string of 16 digits")
    if not is_int(item.get("fd"), 1, U32_MAX):
        raise Rejected(f"'fd' must be an integer 1..{U32_MAX}")
    if not is_int(item.get("fiscal_sign"), 0, MAX_FISCAL_SIGN):
        raise Rejected(f"'fiscal_sign' must be an integer 0..{MAX_FISCAL_SIGN}")
    issued_at = item.get("issued_at")
    try:
        parsed = datetime.fromisoformat(issued_at) if isinstance(issued_at, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise Rejected("'issued_at' must be an ISO 8601 date-time with a UTC offset")
    kind = item.get("kind")
    if kind not in KINDS:
        raise Rejected(f"'kind' must be one of {', '.join(KINDS)}")
    if not is_int(item.get("total"), 0, MAX_TOTAL):
        raise Rejected(f"'total' must be an integer number of kopecks 0..{MAX_TOTAL}")
    original = item.get("original_receipt_id")
    if original is not None:
        original = _uuid(original, "original_receipt_id")
    if kind == "refund" and original is None:
        raise Rejected("a refund must name its original receipt in 'original_receipt_id'")
    hlc = item.get("hlc")
    if not isinstance(hlc, str) or not HLC.fullmatch(hlc):
        raise Rejected("'hlc' must be an HLC timestamp like '001764000000000.00000'")
    if not isinstance(item.get("document"), dict):
        raise Rejected("'document' must be a JSON object (the validated receipt request)")
    document_type = item.get("fiscal_document_type", 3)
    if document_type not in (3, 31):
        raise Rejected("'fiscal_document_type' must be 3 (receipt) or 31 (correction receipt)")
    key = item.get("idempotency_key")
    key = _uuid(key, "idempotency_key") if key is not None else None
    job_ref = item.get("job_ref")
    if job_ref is not None and not (isinstance(job_ref, str) and 0 < len(job_ref) <= 16):
        raise Rejected("'job_ref' must be a job reference of 1..16 characters")
    prepayment = item.get("prepayment", 0)
    if not is_int(prepayment, 0, item["total"]):
        raise Rejected("'prepayment' must be an integer number of kopecks 0..total (the 1215 offset)")
    return {
        "receipt_id": receipt_id,
        "fn_number": fn,
        "fd": item["fd"],
        "fiscal_sign": item["fiscal_sign"],
        "issued_at": issued_at,
        "kind": kind,
        "total": item["total"],
        "original_receipt_id": original,
        "hlc": hlc,
        "fiscal_document_type": document_type,
        "document": item["document"],
        "idempotency_key": key,
        "job_ref": job_ref,
        "prepayment": prepayment,
    }


def fiscal_checks(value: Any) -> list[tuple[str, int]] | None:
    """``fiscal_check`` as the addon reads it: None unless a list; well-formed entries only, an FN once,
    at most ``MAX_FISCAL_CHECK``; anything else skipped, never refused."""
    if not isinstance(value, list):
        return None
    checks: dict[str, int] = {}
    for entry in value:
        if len(checks) == MAX_FISCAL_CHECK:
            break
        if not isinstance(entry, dict):
            continue
        fn, from_fd = entry.get("fn_number"), entry.get("from_fd")
        if isinstance(fn, str) and FN_NUMBER.fullmatch(fn) and is_int(from_fd, 1, U32_MAX):
            checks.setdefault(fn, from_fd)
    return list(checks.items())


def parse_tokens(values: Iterable[str]) -> dict[str, str | None]:
    """``TOKEN`` (any till) or ``POS_ID=TOKEN`` (that till only) -> {token: pos_id or None}."""
    tokens: dict[str, str | None] = {}
    for value in values:
        pos_id, sep, token = value.rpartition("=")
        if not token or (sep and not pos_id):
            raise ValueError(f"expected TOKEN or POS_ID=TOKEN, got {value!r}")
        tokens[token] = pos_id or None
    return tokens


class OdooStandin(Standin):
    """Receipts by receipt_id (plus the FN+FD index), last heartbeat per till."""

    name = "odoo"
    api_prefix = f"{API}/"
    modes = ("up", "down", "error", "reject", "nodb")
    filter_key = "receipt_ids"

    def __init__(self, state_dir: Path | None = None, tokens: dict[str, str | None] | None = None):
        super().__init__(state_dir)
        self.tokens = dict(tokens) if tokens else {DEFAULT_TOKEN: None}
        self.receipts: dict[str, dict[str, Any]] = {}
        self.by_fd: dict[tuple[str, int], str] = {}
        self.heartbeats: dict[str, dict[str, Any]] = {}
        for record in self.journal.load():
            self._remember(record)
        self.received = self.duplicates = self.rejected = self.heartbeat_count = 0

    def _remember(self, record: dict[str, Any]) -> None:
        self.receipts[record["receipt_id"]] = {**record, "count": 1}
        self.by_fd[(record["fn_number"], record["fd"])] = record["receipt_id"]

    def _forget(self, record: dict[str, Any]) -> None:
        self.receipts.pop(record["receipt_id"], None)
        self.by_fd.pop((record["fn_number"], record["fd"]), None)

    def counters(self) -> dict[str, Any]:
        return {
            "unique_receipts": len(self.receipts),
            "received": self.received,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "heartbeats": self.heartbeat_count,
        }

    def clear(self) -> None:
        self.receipts.clear()
        self.by_fd.clear()
        self.heartbeats.clear()
        self.received = self.duplicates = self.rejected = self.heartbeat_count = 0

    def authorize(self, pos_id: Any) -> None:
        """401 without a known bearer token, 403 when the token belongs to another till."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in self.tokens:
            raise ApiError(
                401,
                "unauthorized",
                "a valid 'Authorization: Bearer <till token>' is required",
                {"WWW-Authenticate": 'Bearer realm="optics_pos_ru54fz"'},
            )
        bound = self.tokens[token.strip()]
        if bound is not None and pos_id != bound:
            raise ApiError(403, "forbidden", f"this token belongs to till {bound!r}, not {pos_id!r}")

    @staticmethod
    def pos_id(body: dict[str, Any]) -> str:
        pos_id = body.get("pos_id")
        if not isinstance(pos_id, str) or not 1 <= len(pos_id) <= MAX_POS_ID:
            raise ApiError(400, "malformed_body", f"'pos_id' must be a string of 1..{MAX_POS_ID} characters")
        return pos_id

    def _judge(self, item: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        """Status of one receipt against what is recorded (lock held); raises Rejected."""
        record = check_receipt(item)
        if self.current_mode().rejects(record["receipt_id"]):
            raise Rejected(REJECTED_BY_MODE)
        rid, key = record["receipt_id"], (record["fn_number"], record["fd"])
        known = self.receipts.get(rid)
        if known is not None:
            if (known["fn_number"], known["fd"]) != key:
                raise Rejected(
                    f"receipt {rid} was recorded with FN {known['fn_number']} FD {known['fd']}, "
                    f"not FN {key[0]} FD {key[1]}"
                )
            return "duplicate", known
        owner = self.by_fd.get(key)
        if owner is not None:
            raise Rejected(f"FN {key[0]} FD {key[1]} already belongs to receipt {owner}")
        if record["kind"] == "refund":
            original = self.receipts.get(record["original_receipt_id"])
            if original is None:
                raise Rejected(f"the original receipt {record['original_receipt_id']} was never received")
            if original["kind"] == "refund":
                raise Rejected(f"the original receipt {original['receipt_id']} is itself a refund")
        return "created", record

    def submit(self, pos_id: str, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        results, new = [], []
        with self.lock:
            for item in items:
                self.received += 1
                result: dict[str, Any] = {"receipt_id": item.get("receipt_id")}
                try:
                    status, record = self._judge(item)
                except Rejected as exc:
                    self.rejected += 1
                    results.append({**result, "status": "rejected", "reason": str(exc)})
                    continue
                assert record is not None
                if status == "created":
                    record = {**record, "pos_id": pos_id, "received_at_ms": now_ms()}
                    self._remember(record)
                    new.append(record)
                else:
                    record["count"] += 1
                    self.duplicates += 1
                results.append({**result, "status": status, "reason": None})
            self.record_durably(new)
        return results

    def fiscal_documents(self, checks: list[tuple[str, int]]) -> dict[str, dict[str, int]]:
        """Per FN asked about: the highest FD recorded (0 = none) and the receipts from ``from_fd`` on."""
        with self.lock:
            fds: dict[str, list[int]] = {fn: [] for fn, _ in checks}
            for fn, fd in self.by_fd:
                if fn in fds:
                    fds[fn].append(fd)
        return {
            fn: {
                "from_fd": from_fd,
                "max_fd": max(fds[fn], default=0),
                "count": sum(fd >= from_fd for fd in fds[fn]),
            }
            for fn, from_fd in checks
        }

    def forget(self, body: dict[str, Any]) -> list[str]:
        """Drop receipts as a restore of Odoo's database to an earlier point loses them (journal too):
        ``{"after_fd": N, "fn_number": FN?}`` those with an FD above N (of that FN, else of every FN),
        ``{"receipt_ids": [...]}`` those receipts; both may be given. Returns the ids forgotten."""
        unknown = sorted(set(body) - {"after_fd", "fn_number", "receipt_ids"})
        if unknown:
            raise ApiError(400, "invalid_forget", f"unknown fields: {', '.join(unknown)}")
        after, fn, ids = body.get("after_fd"), body.get("fn_number"), body.get("receipt_ids", [])
        if after is not None and not is_int(after, 0, U32_MAX):
            raise ApiError(400, "invalid_forget", f"'after_fd' must be an integer 0..{U32_MAX}")
        if fn is not None and not (isinstance(fn, str) and FN_NUMBER.fullmatch(fn)):
            raise ApiError(400, "invalid_forget", "'fn_number' must be a string of 16 digits")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ApiError(400, "invalid_forget", "'receipt_ids' must be a list of receipt ids")
        with self.lock:
            gone = [
                record
                for record in self.receipts.values()
                if record["receipt_id"] in ids
                or (after is not None and record["fd"] > after and fn in (None, record["fn_number"]))
            ]
            for record in gone:
                self._forget(record)
            kept = [{k: v for k, v in r.items() if k != "count"} for r in self.receipts.values()]
            self.journal.truncate()
            self.journal.append(kept)
        return [record["receipt_id"] for record in gone]

    def heartbeat(self, body: dict[str, Any], pos_id: str) -> None:
        hlc, sent_at, status = body.get("hlc"), body.get("sent_at_ms"), body.get("status")
        if not isinstance(hlc, str) or not HLC.fullmatch(hlc):
            raise ApiError(
                400, "malformed_body", "'hlc' must be an HLC timestamp like '001764000000000.00000'"
            )
        if not is_int(sent_at, 0, 1 << 62):
            raise ApiError(400, "malformed_body", "'sent_at_ms' must be a non-negative integer")
        if not isinstance(status, dict):
            raise ApiError(400, "malformed_body", "'status' must be a JSON object")
        with self.lock:
            self.heartbeat_count += 1
            self.heartbeats[pos_id] = {
                "pos_id": pos_id,
                "hlc": hlc,
                "sent_at_ms": sent_at,
                "status": status,
                "received_at_ms": now_ms(),
            }
            if "fiscal_check" in body:
                self.heartbeats[pos_id]["fiscal_check"] = body["fiscal_check"]

    def register(self, app: Flask) -> None:
        @app.post(f"{API}/receipts")
        def _receipts() -> Any:
            body = json_body()
            pos_id = self.pos_id(body)
            self.authorize(pos_id)
            results = self.submit(pos_id, batch(body, "receipts"))
            return {"server_time_ms": self.server_time_ms(), "results": results}

        @app.post(f"{API}/heartbeat")
        def _heartbeat() -> Any:
            body = json_body()
            pos_id = self.pos_id(body)
            self.authorize(pos_id)
            self.heartbeat(body, pos_id)
            answer: dict[str, Any] = {"server_time_ms": self.server_time_ms()}
            checks = fiscal_checks(body.get("fiscal_check"))
            if checks is not None:
                answer["fiscal_documents"] = self.fiscal_documents(checks)
            return answer

        @app.get("/control/receipts")
        def _control_receipts() -> Any:
            with self.lock:
                return list(self.receipts.values())

        @app.get("/control/heartbeats")
        def _control_heartbeats() -> Any:
            with self.lock:
                return dict(self.heartbeats)

        @app.post("/control/forget")
        def _control_forget() -> Any:
            return {"forgotten": self.forget(json_body())}


class OdooControl(ControlClient):
    """Client of the Odoo stand-in's control API: ``mode("down")``, ``stats()``, ``receipts()``."""

    filter_key = "receipt_ids"

    def mode(  # type: ignore[override]
        self,
        mode: str = "up",
        *,
        delay_ms: int = 0,
        clock_skew_ms: int = 0,
        receipt_ids: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        return super().mode(mode, delay_ms=delay_ms, clock_skew_ms=clock_skew_ms, only=receipt_ids)

    def receipts(self) -> list[dict[str, Any]]:
        return self._call("GET", "/control/receipts")

    def heartbeats(self) -> dict[str, dict[str, Any]]:
        return self._call("GET", "/control/heartbeats")

    def forget(
        self,
        *,
        after_fd: int | None = None,
        fn_number: str | None = None,
        receipt_ids: Iterable[str] = (),
    ) -> list[str]:
        """Make the stand-in lose receipts as a restore of Odoo would; returns the receipt ids lost."""
        body: dict[str, Any] = {"receipt_ids": list(receipt_ids)}
        if after_fd is not None:
            body["after_fd"] = after_fd
        if fn_number is not None:
            body["fn_number"] = fn_number
        return self._call("POST", "/control/forget", body)["forgotten"]


def cli(argv: Sequence[str] | None = None) -> int:
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--token",
            action="append",
            default=[],
            help=f"accepted bearer token, TOKEN or POS_ID=TOKEN; repeatable (default: {DEFAULT_TOKEN})",
        )

    def build(args: argparse.Namespace) -> OdooStandin:
        try:
            tokens = parse_tokens(args.token)
        except ValueError as exc:
            raise SystemExit(f"odoo stand-in: {exc}") from exc
        return OdooStandin(args.state_dir, tokens)

    return main(
        argv,
        prog="python -m tests.kit.standins.odoo",
        description="Odoo stand-in (optics_pos_ru54fz till contract)",
        build=build,
        add_arguments=add_arguments,
    )


if __name__ == "__main__":
    raise SystemExit(cli())
