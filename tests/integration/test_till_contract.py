"""The till contract (docs/api/odoo-till-contract.md), one suite for both implementations.

Every test runs against the Odoo stand-in (``tests/kit/standins/odoo.py``, always) and, inside ``make
test-odoo``, against the ``optics_pos_ru54fz`` addon on a real ``odoo-bin --workers=2`` (``ODOO_BENCH_*`` in
the environment: tests/kit/odoo_server.py), so the two cannot drift. Tests never rely on a clean state
(Odoo's database keeps what earlier tests recorded): every test draws its own FN number and receipt ids.
"""

from __future__ import annotations

import json
import random
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.kit.odoo_server import Bench, OdooServer
from tests.kit.standins.common import StandinProcess

API = "/optics_pos_ru54fz/v1"
PROBLEM = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "code", "detail"}
TARGETS = ["standin", "odoo"] if Bench.from_env() else ["standin"]


@dataclass
class Target:
    """A contract implementation: base URL and two tills with their tokens."""

    name: str
    url: str
    tills: dict[str, str]  # pos_id -> token

    @property
    def till(self) -> str:
        return next(iter(self.tills))

    @property
    def other(self) -> str:
        return list(self.tills)[1]

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        pos_id: str | None = None,
        token: str | None = "",
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """POST to the API; ``token=""`` is the till's own, ``None`` sends no Authorization header."""
        headers = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            headers.setdefault("Authorization", f"Bearer {token or self.tills[pos_id or self.till]}")
        data = raw if raw is not None else json.dumps(body).encode()
        return requests.post(f"{self.url}{API}/{path}", data=data, headers=headers, timeout=60)

    def receipts(self, *items: dict[str, Any], pos_id: str | None = None, **kwargs: Any) -> requests.Response:
        pos_id = pos_id or self.till
        return self.post("receipts", {"pos_id": pos_id, "receipts": list(items)}, pos_id=pos_id, **kwargs)

    def results(self, *items: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
        resp = self.receipts(*items, **kwargs)
        assert resp.status_code == 200, resp.text[:300]
        body = resp.json()
        assert isinstance(body["server_time_ms"], int)
        assert [r["receipt_id"] for r in body["results"]] == [i.get("receipt_id") for i in items]
        return body["results"]


def _tills(prefix: str) -> dict[str, str]:
    return {f"{prefix}-till-a": secrets.token_urlsafe(16), f"{prefix}-till-b": secrets.token_urlsafe(16)}


@pytest.fixture(scope="module", params=TARGETS)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    if request.param == "standin":
        tills = _tills("standin")
        proc = StandinProcess.start(
            "odoo", args=[arg for p, t in tills.items() for arg in ("--token", f"{p}={t}")]
        )
        yield Target("standin", proc.url, tills)
        assert proc.stop() == 0
        return
    bench = Bench.from_env()
    assert bench is not None
    with OdooServer(bench, "contract") as server:
        prefix = f"contract-{secrets.token_hex(3)}"
        tills = {pos_id: server.add_till(pos_id) for pos_id in (f"{prefix}-till-a", f"{prefix}-till-b")}
        yield Target("odoo", server.url, tills)


@pytest.fixture
def fn() -> str:
    """An FN number of this test's own (the Odoo target keeps earlier tests' documents)."""
    return "9999" + "".join(random.choices("0123456789", k=12))


def receipt(fn: str, fd: int, **overrides: Any) -> dict[str, Any]:
    body = {
        "receipt_id": str(uuid.uuid4()),
        "fn_number": fn,
        "fd": fd,
        "fiscal_sign": 3_735_928_559,
        "issued_at": "2026-11-23T12:00:00+03:00",
        "kind": "sale",
        "total": 940_000,
        "original_receipt_id": None,
        "hlc": "001795470000000.00001",
        "document": {"type": "sale", "items": []},
    }
    body.update(overrides)
    return body


def assert_problem(resp: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text[:300]
    assert resp.headers["Content-Type"].split(";")[0] == PROBLEM
    body = resp.json()
    assert set(body) >= PROBLEM_KEYS and (body["status"], body["code"]) == (status, code)
    return body


def statuses(results: list[dict[str, Any]]) -> list[str]:
    return [r["status"] for r in results]


# ---- authentication ------------------------------------------------------------------------------


def test_a_till_token_is_required(target: Target, fn: str) -> None:
    for token in (None, "wrong-token"):
        resp = target.receipts(receipt(fn, 1), token=token)
        assert_problem(resp, 401, "unauthorized")
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    basic = target.receipts(receipt(fn, 1), token=None, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_problem(basic, 401, "unauthorized")
    foreign = target.receipts(receipt(fn, 1), pos_id=target.other, token=target.tills[target.till])
    assert_problem(foreign, 403, "forbidden")
    assert statuses(target.results(receipt(fn, 1))) == ["created"]  # nothing was recorded by the refusals


# ---- receipts ------------------------------------------------------------------------------------


def test_receipts_are_idempotent_on_receipt_id_and_fd(target: Target, fn: str) -> None:
    sale = receipt(fn, 1)
    refund = receipt(fn, 2, kind="refund", original_receipt_id=sale["receipt_id"], total=100)
    assert statuses(target.results(sale, refund)) == [
        "created",
        "created",
    ]  # a sale and its refund, one batch
    again = target.results(sale, {**refund, "total": 5})  # the other fields of a repeat are not compared
    assert [(r["status"], r["reason"]) for r in again] == [("duplicate", None), ("duplicate", None)]
    moved = target.results({**sale, "fd": 5})[0]
    assert moved["status"] == "rejected" and "was recorded with FN" in moved["reason"]
    stolen = target.results(receipt(fn, 1))[0]
    assert stolen["status"] == "rejected" and "already belongs to receipt" in stolen["reason"]


def test_refunds_must_name_a_recorded_sale(target: Target, fn: str) -> None:
    sale = receipt(fn, 1)
    refund = receipt(fn, 2, kind="refund", original_receipt_id=sale["receipt_id"])
    target.results(sale, refund)
    orphan, unnamed, of_refund = target.results(
        receipt(fn, 3, kind="refund", original_receipt_id=str(uuid.uuid4())),
        receipt(fn, 4, kind="refund"),
        receipt(fn, 5, kind="refund", original_receipt_id=refund["receipt_id"]),
    )
    assert orphan["status"] == "rejected" and "never received" in orphan["reason"]
    assert unnamed["status"] == "rejected" and "must name its original" in unnamed["reason"]
    assert of_refund["status"] == "rejected" and "itself a refund" in of_refund["reason"]


def test_an_fn_replaced_under_the_same_till_starts_again_at_fd_1(target: Target, fn: str) -> None:
    old = [receipt(fn, 1), receipt(fn, 2)]
    target.results(*old)
    new_fn = fn[:-1] + str((int(fn[-1]) + 1) % 10)
    assert statuses(target.results(receipt(new_fn, 1), receipt(new_fn, 2))) == ["created", "created"]
    assert statuses(target.results(*old)) == ["duplicate", "duplicate"]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"receipt_id": "R-1"}, "'receipt_id' is not a UUID"),
        ({"fn_number": 9999078900001234}, "'fn_number'"),
        ({"fn_number": "123"}, "'fn_number'"),
        ({"fd": -1}, "'fd'"),
        ({"fd": 2**32}, "'fd'"),
        ({"fd": True}, "'fd'"),
        ({"fiscal_sign": "1"}, "'fiscal_sign'"),
        ({"fiscal_sign": 2**48}, "'fiscal_sign'"),
        ({"issued_at": "2026-11-23T12:00:00"}, "UTC offset"),
        ({"issued_at": "yesterday"}, "UTC offset"),
        ({"kind": "gift"}, "'kind'"),
        ({"total": 1.5}, "'total'"),
        ({"total": 10**13 + 1}, "'total'"),
        ({"hlc": "12:00"}, "'hlc'"),
        ({"document": []}, "'document'"),
        ({"fiscal_document_type": 2}, "'fiscal_document_type'"),
        ({"idempotency_key": "order-1"}, "'idempotency_key'"),
        ({"idempotency_key": 5}, "'idempotency_key'"),
    ],
)
def test_an_invalid_receipt_is_rejected_alone(target: Target, fn: str, overrides: dict, reason: str) -> None:
    bad, good = target.results({**receipt(fn, 1), **overrides}, receipt(fn, 2))
    assert bad["status"] == "rejected" and reason in bad["reason"]
    assert good["status"] == "created"


def test_the_pos_order_key_travels_with_the_receipt(target: Target, fn: str) -> None:
    keyed = receipt(fn, 1, idempotency_key=str(uuid.uuid4()).upper())
    assert statuses(target.results(keyed, receipt(fn, 2, idempotency_key=None))) == ["created", "created"]


def test_the_largest_values_and_a_full_batch(target: Target, fn: str) -> None:
    big = receipt(fn, 2**32 - 1, fiscal_sign=2**48 - 1, total=10**13, fiscal_document_type=31)
    items = [big] + [receipt(fn, n) for n in range(1, 100)]
    assert statuses(target.results(*items)) == ["created"] * 100


# ---- malformed requests and Odoo's own errors ----------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"pos_id": "x", "receipts": [{"total": NaN}]}',
        b'{"pos_id": "x", "receipts": [{"hlc": "\\ud800"}]}',
        b"[" * 40 + b"]" * 40,
        b"\xff\xfe",
    ],
    ids=["text", "array", "nan", "surrogate", "deep", "not-utf8"],
)
def test_a_body_that_is_no_json_object_is_400(target: Target, raw: bytes) -> None:
    assert_problem(target.post("receipts", raw=raw), 400, "malformed_body")


def test_bad_envelopes_are_400(target: Target, fn: str) -> None:
    for body in (
        {"pos_id": "", "receipts": [receipt(fn, 1)]},
        {"pos_id": "x" * 65, "receipts": [receipt(fn, 1)]},
        {"pos_id": 5, "receipts": [receipt(fn, 1)]},
        {"pos_id": target.till, "receipts": []},
        {"pos_id": target.till, "receipts": [receipt(fn, n) for n in range(1, 102)]},
        {"pos_id": target.till, "receipts": [1]},
        {"pos_id": target.till},
    ):
        assert_problem(target.post("receipts", body), 400, "malformed_body")


def test_unknown_paths_wrong_methods_and_huge_bodies_are_problems(target: Target) -> None:
    assert_problem(target.post("nothing-here", {}), 404, "not_found")
    assert_problem(requests.get(f"{target.url}/optics_pos_ru54fz/v2/receipts", timeout=30), 404, "not_found")
    for method in ("GET", "PUT", "DELETE"):
        assert_problem(
            requests.request(method, f"{target.url}{API}/receipts", timeout=30), 405, "method_not_allowed"
        )
    huge = b'{"pos_id": "a", "pad": "' + b"x" * (16 * 1024 * 1024) + b'"}'
    assert_problem(target.post("receipts", raw=huge), 413, "body_too_large")


# ---- heartbeat -----------------------------------------------------------------------------------


def test_heartbeat(target: Target) -> None:
    beat = {"pos_id": target.till, "hlc": "001795470000000.00002", "sent_at_ms": 1_795_470_000_000,
            "status": {"kkt": "ok", "buffer": {"queued": 3, "capacity": 100, "dlq": 0}}}  # fmt: skip
    resp = target.post("heartbeat", beat)
    assert resp.status_code == 200, resp.text[:300]
    assert isinstance(resp.json()["server_time_ms"], int)
    for field, value in (("hlc", "x"), ("sent_at_ms", -1), ("sent_at_ms", "now"), ("status", None)):
        assert_problem(target.post("heartbeat", {**beat, field: value}), 400, "malformed_body")
    assert_problem(
        target.post("heartbeat", {**beat, "pos_id": target.other}, pos_id=target.till), 403, "forbidden"
    )
    assert_problem(target.post("heartbeat", beat, token="wrong-token"), 401, "unauthorized")


def test_heartbeat_fiscal_check_answers_what_is_held_per_fn(target: Target, fn: str) -> None:
    """``fiscal_check`` (docs/api/odoo-till-contract.md): per FN the highest FD held and the documents
    from ``from_fd`` on; optional, and a malformed one is skipped, never refused."""
    assert statuses(target.results(*(receipt(fn, fd) for fd in (3, 5, 9)))) == ["created"] * 3
    other = "8888" + fn[4:]  # an FN nothing was recorded for
    beat = {
        "pos_id": target.till,
        "hlc": "001795470000000.00003",
        "sent_at_ms": 1_795_470_000_000,
        "status": {},
    }

    def answer(check: Any = None) -> dict[str, Any]:
        resp = target.post("heartbeat", beat if check is None else {**beat, "fiscal_check": check})
        assert resp.status_code == 200, resp.text[:300]
        return resp.json()

    assert set(answer()) == {"server_time_ms"}  # an adapter that does not ask gets what it always got
    documents = answer([{"fn_number": fn, "from_fd": 4}, {"fn_number": other, "from_fd": 1}])[
        "fiscal_documents"
    ]
    assert documents == {
        fn: {"from_fd": 4, "max_fd": 9, "count": 2},
        other: {"from_fd": 1, "max_fd": 0, "count": 0},
    }
    assert answer([{"fn_number": fn, "from_fd": 10}])["fiscal_documents"] == {
        fn: {"from_fd": 10, "max_fd": 9, "count": 0}
    }
    for not_a_list in ("x", {"fn_number": fn, "from_fd": 1}, 7):
        assert "fiscal_documents" not in answer(not_a_list)
    junk = [1, "x", {"fn_number": fn}, {"fn_number": fn, "from_fd": 0}, {"fn_number": fn, "from_fd": True},
            {"fn_number": fn[:15], "from_fd": 1}, {"fn_number": int(fn), "from_fd": 1}]  # fmt: skip
    assert answer(junk)["fiscal_documents"] == {}
    assert answer([])["fiscal_documents"] == {}
    many = [{"fn_number": f"{n}" * 16, "from_fd": 1} for n in range(6)]
    answered = answer([many[0], {"fn_number": "0" * 16, "from_fd": 5}, *many[1:]])["fiscal_documents"]
    assert list(answered) == [many[n]["fn_number"] for n in range(4)]  # at most 4 FNs, each once
    assert answered["0" * 16]["from_fd"] == 1  # an FN named twice: its first entry
