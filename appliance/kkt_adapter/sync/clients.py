"""HTTP clients of the two delivery endpoints (contracts: docs/api/ofd-gateway.md, odoo-till-contract.md).

Errors are classified once, here: ``TransientError`` (timeout, connection, 5xx, unexpected answer) is
retried forever and trips the circuit breaker; ``PermanentError`` (a 4xx problem answer of the endpoint's API
on the whole request) and per-item ``rejected`` answers are final and go to the DLQ with the reason.

A refusal is final only when the endpoint's API says it: both contracts answer every 4xx as
``application/problem+json``. A 4xx without it was produced by something else in front of the API — Odoo
with its database down answers every addon route with its HTML 404, a proxy serves its own error page — so
the documents were never judged: transient, and they flow again by themselves when the API is back.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import requests

from kkt_adapter.buffer.redelivery import OdooHolds


class TransientError(Exception):
    """The endpoint could not answer now; try again later."""


class PermanentError(Exception):
    """The endpoint answered and refused; trying again cannot help."""


@dataclass(frozen=True)
class ItemResult:
    key: tuple[str, int] | str  # (fn_number, fd) for the OFD, receipt_id for Odoo
    ok: bool  # accepted / created / duplicate
    reason: str | None = None
    ack: bytes | None = None


@dataclass(frozen=True)
class BatchResult:
    items: dict[Any, ItemResult]
    server_time_ms: int | None


def _is_problem(resp: requests.Response) -> bool:
    return resp.headers.get("Content-Type", "").split(";")[0].strip().lower() == "application/problem+json"


class _Client:
    def __init__(self, base_url: str, timeout: float, token: str = ""):
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            resp = self.session.post(self.base + path, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from None
        if resp.status_code >= 500 or resp.status_code in (408, 429):
            raise TransientError(f"HTTP {resp.status_code} from {path}")
        if resp.status_code >= 400:
            if not _is_problem(resp):
                raise TransientError(
                    f"HTTP {resp.status_code} from {path} without a problem answer: the API is not there"
                )
            try:
                detail = resp.json().get("detail") or resp.text[:200]
            except ValueError:
                detail = resp.text[:200]
            raise PermanentError(f"HTTP {resp.status_code}: {detail}")
        try:
            data = resp.json()
        except ValueError:
            raise TransientError(f"answer from {path} is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise TransientError(f"unexpected answer from {path}")
        return data


class OfdClient(_Client):
    def send(self, documents: list[dict[str, Any]]) -> BatchResult:
        """``documents``: fn_number, fd, doc_type, message (bytes). Duplicates count as delivered."""
        body = {
            "documents": [{**d, "message": base64.b64encode(d["message"]).decode("ascii")} for d in documents]
        }
        data = self._post("/v1/documents", body)
        items: dict[Any, ItemResult] = {}
        for r in data["results"]:
            fd = r.get("fd")
            key = (str(r.get("fn_number")), fd if isinstance(fd, int) else -1)  # unmatched keys are retried
            ok = r.get("status") in ("accepted", "duplicate")
            ack = base64.b64decode(r["ack"]) if ok and r.get("ack") else None
            items[key] = ItemResult(key, ok, r.get("reason"), ack)  # a repeated result is absorbed
        return BatchResult(items, data.get("server_time_ms"))


class OdooClient(_Client):
    def send(self, pos_id: str, receipts: list[dict[str, Any]]) -> BatchResult:
        data = self._post("/optics_pos_ru54fz/v1/receipts", {"pos_id": pos_id, "receipts": receipts})
        items = {
            str(r.get("receipt_id")): ItemResult(
                str(r.get("receipt_id")), r.get("status") in ("created", "duplicate"), r.get("reason")
            )
            for r in data["results"]
        }
        return BatchResult(items, data.get("server_time_ms"))

    def heartbeat(self, body: dict[str, Any]) -> HeartbeatAnswer:
        """Any answer but a 200 with ``server_time_ms`` is a failed heartbeat (``TransientError``)."""
        try:
            resp = self.session.post(
                self.base + "/optics_pos_ru54fz/v1/heartbeat", json=body, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from None
        if resp.status_code != 200:
            raise TransientError(f"heartbeat HTTP {resp.status_code}")
        try:
            data = resp.json()
            server_ms = int(data["server_time_ms"])
        except (ValueError, KeyError, TypeError):
            raise TransientError("heartbeat answer without server_time_ms") from None
        return HeartbeatAnswer(server_ms, _fiscal_documents(data.get("fiscal_documents")))


@dataclass(frozen=True)
class HeartbeatAnswer:
    server_time_ms: int
    #: Odoo's documents per FN asked about in ``fiscal_check`` (buffer/redelivery.py); empty when the
    #: server answered none (an Odoo that predates the key, or no key sent).
    fiscal_documents: dict[str, OdooHolds]


def _fiscal_documents(value: Any) -> dict[str, OdooHolds]:
    """The well-formed entries of the answer's ``fiscal_documents``; anything else is left out, so an odd
    answer can only make the till send less again, never more."""
    if not isinstance(value, dict):
        return {}
    holds = {}
    for fn_number, entry in value.items():
        if not isinstance(entry, dict):
            continue
        numbers = [entry.get(key) for key in ("from_fd", "max_fd", "count")]
        if all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
            holds[str(fn_number)] = OdooHolds(*numbers)
    return holds
