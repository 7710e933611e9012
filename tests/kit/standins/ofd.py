"""OFD gateway stand-in: receives the FN's signed documents and answers with acknowledgments for the FN.

    python -m tests.kit.standins.ofd --listen HOST:PORT [--state-dir DIR] [--log-level INFO]

``POST /v1/documents`` takes up to 100 documents ``{"fn_number", "fd", "doc_type", "message"}`` (message =
base64 of the FN's message: one STLV whose tag is the document type, holding at least 1040 FD, 1041 FN
number and 1077 fiscal sign). Each comes back ``accepted`` (new), ``duplicate`` (received before, same bytes;
a success for the till) or ``rejected`` with a reason (permanent). Accepted and duplicate results carry
``ack``: base64 of TLV(1040, FD as u32 LE) + TLV(1078, first 8 bytes of HMAC-SHA256(secret, FN number in
ASCII + FD as u32 LE)), the same bytes every time for one document, which the emulator's FN accepts (FFD2).
The contract is docs/api/ofd-gateway.md; the ``/control/`` API is described in ``common``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from flask import Flask

from kkt_adapter.shtrih import codec
from kkt_adapter.shtrih.codec import CodecError
from tests.kit.standins.common import (
    FN_NUMBER,
    U32_MAX,
    ControlClient,
    Standin,
    batch,
    is_int,
    json_body,
    main,
)

TAG_FD = 1040
TAG_FN = 1041
TAG_FISCAL_SIGN = 1077
TAG_OPERATOR_SIGN = 1078  # the OFD's fiscal sign of the operator, carried in the acknowledgment
REQUIRED_TAGS = (TAG_FD, TAG_FN, TAG_FISCAL_SIGN)
SECRET_FILE = "ofd-secret.hex"
REJECTED_BY_MODE = "rejected by the OFD (format)"


class Rejected(Exception):
    """A document cannot be accepted; the message is the reason returned to the till."""


def make_ack(secret: bytes, fn_number: str, fd: int) -> bytes:
    """The acknowledgment bytes of one document (deterministic for a given secret)."""
    sign = hmac.new(secret, fn_number.encode("ascii") + fd.to_bytes(4, "little"), hashlib.sha256).digest()
    return codec.encode_tlv(TAG_FD, codec.encode_uint(fd, 4)) + codec.encode_tlv(TAG_OPERATOR_SIGN, sign[:8])


def check_document(item: dict[str, Any]) -> tuple[str, int, int, bytes]:
    """Validate one submitted document -> (fn_number, fd, doc_type, message bytes); raises Rejected."""
    fn, fd, doc_type, message = (item.get(k) for k in ("fn_number", "fd", "doc_type", "message"))
    if not isinstance(fn, str) or not FN_NUMBER.fullmatch(fn):
        raise Rejected("'fn_number' must be a string of 16 digits")
    if not is_int(fd, 1, U32_MAX):
        raise Rejected(f"'fd' must be an integer 1..{U32_MAX}")
    if not is_int(doc_type, 1, 0xFFFF):
        raise Rejected("'doc_type' must be an integer 1..65535")
    if not isinstance(message, str) or not message:
        raise Rejected("'message' must be a non-empty base64 string")
    try:
        raw = base64.b64decode(message, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Rejected(f"'message' is not valid base64: {exc}") from exc
    try:
        outer = codec.decode_tlvs(raw)
        if len(outer) != 1 or outer[0][0] != doc_type:
            raise Rejected(f"the message must be one STLV tagged with the document type {doc_type}")
        fields: dict[int, bytes] = {}
        for tag, value in codec.decode_tlvs(outer[0][1]):
            fields.setdefault(tag, value)
    except CodecError as exc:
        raise Rejected(f"the message is not a valid TLV structure: {exc}") from exc
    missing = [str(tag) for tag in REQUIRED_TAGS if tag not in fields]
    if missing:
        raise Rejected(f"the message lacks tag(s) {', '.join(missing)}")
    if len(fields[TAG_FD]) != 4 or codec.decode_uint(fields[TAG_FD]) != fd:
        raise Rejected(f"tag 1040 of the message ({codec.decode_uint(fields[TAG_FD])}) is not FD {fd}")
    if codec.decode_text(fields[TAG_FN]) != fn:
        raise Rejected(f"tag 1041 of the message ({codec.decode_text(fields[TAG_FN])!r}) is not FN {fn}")
    if not 1 <= len(fields[TAG_FISCAL_SIGN]) <= 6:
        raise Rejected("tag 1077 (fiscal sign) must be 1..6 bytes")
    return fn, fd, doc_type, raw


class OfdStandin(Standin):
    """The OFD gateway: documents by (FN number, FD), each with the digest of its message."""

    name = "ofd"
    api_prefix = "/v1/"
    modes = ("up", "down", "error", "reject", "duplicate_ack")
    filter_key = "fds"

    def __init__(self, state_dir: Path | None = None, secret: bytes | None = None):
        super().__init__(state_dir)
        self.secret = secret or self._load_secret(state_dir)
        self.docs: dict[tuple[str, int], dict[str, Any]] = {}
        for record in self.journal.load():
            self._remember(record)
        self.received = self.duplicates = self.rejected = 0

    @staticmethod
    def _load_secret(state_dir: Path | None) -> bytes:
        if state_dir is None:
            return secrets.token_bytes(32)
        path = Path(state_dir) / SECRET_FILE
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32), encoding="ascii")
        return bytes.fromhex(path.read_text(encoding="ascii").strip())

    def _remember(self, record: dict[str, Any]) -> None:
        self.docs[(record["fn_number"], record["fd"])] = {**record, "count": 1}

    def _forget(self, record: dict[str, Any]) -> None:
        self.docs.pop((record["fn_number"], record["fd"]), None)

    def counters(self) -> dict[str, Any]:
        by_fn: dict[str, int] = {}
        for fn, _ in self.docs:
            by_fn[fn] = by_fn.get(fn, 0) + 1
        return {
            "unique_documents": len(self.docs),
            "received": self.received,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "by_fn": by_fn,
        }

    def clear(self) -> None:
        self.docs.clear()
        self.received = self.duplicates = self.rejected = 0

    def submit(self, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Process a batch in order under the lock; new documents reach the journal before the answer."""
        mode = self.current_mode()
        results, new = [], []
        with self.lock:
            for item in items:
                self.received += 1
                result = {"fn_number": item.get("fn_number"), "fd": item.get("fd"), "status": "rejected"}
                try:
                    fn, fd, doc_type, raw = check_document(item)
                    if mode.rejects(fd):
                        raise Rejected(REJECTED_BY_MODE)
                    digest = hashlib.sha256(raw).hexdigest()
                    known = self.docs.get((fn, fd))
                    if known is not None and known["digest"] != digest:
                        raise Rejected(f"FD {fd} of FN {fn} was received before with different content")
                except Rejected as exc:
                    self.rejected += 1
                    results.append({**result, "ack": None, "reason": str(exc)})
                    continue
                if known is None:
                    record = {"fn_number": fn, "fd": fd, "doc_type": doc_type, "digest": digest}
                    self._remember(record)
                    new.append(record)
                    result["status"] = "accepted"
                else:
                    known["count"] += 1
                    self.duplicates += 1
                    result["status"] = "duplicate"
                ack = make_ack(self.secret, fn, fd)
                results.append({**result, "ack": base64.b64encode(ack).decode("ascii"), "reason": None})
            self.record_durably(new)
        if mode.mode == "duplicate_ack":
            results = [r for r in results for _ in range(2)]
        return results

    def documents(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                {"fn_number": d["fn_number"], "fd": d["fd"], "doc_type": d["doc_type"], "count": d["count"]}
                for _, d in sorted(self.docs.items())
            ]

    def register(self, app: Flask) -> None:
        @app.post("/v1/documents")
        def _documents() -> Any:
            items = batch(json_body(), "documents")
            results = self.submit(items)
            return {"results": results, "server_time_ms": self.server_time_ms()}

        @app.get("/control/documents")
        def _control_documents() -> Any:
            return self.documents()


class OfdControl(ControlClient):
    """Client of the OFD stand-in's control API: ``mode("reject", fds=[3])``, ``stats()``, ``documents()``."""

    filter_key = "fds"

    def mode(  # type: ignore[override]
        self, mode: str = "up", *, delay_ms: int = 0, clock_skew_ms: int = 0, fds: Iterable[int] | None = None
    ) -> dict[str, Any]:
        return super().mode(mode, delay_ms=delay_ms, clock_skew_ms=clock_skew_ms, only=fds)

    def documents(self) -> list[dict[str, Any]]:
        return self._call("GET", "/control/documents")


def cli(argv: Sequence[str] | None = None) -> int:
    def build(args: argparse.Namespace) -> OfdStandin:
        return OfdStandin(args.state_dir)

    return main(
        argv,
        prog="python -m tests.kit.standins.ofd",
        description="OFD gateway stand-in (documents in, FN acknowledgments out)",
        build=build,
    )


if __name__ == "__main__":
    raise SystemExit(cli())
