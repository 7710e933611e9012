"""Contracts of the OFD and Odoo stand-ins, run as real processes on loopback.

The Odoo till contract itself is tests/integration/test_till_contract.py (stand-in and addon alike); here
only the Odoo stand-in's own controls: modes, counters, its journal across a restart.

The OFD side is fed real documents signed by the KKT emulator's FN (read over the pty with the driver) and
its acknowledgments are handed back to that FN, which must then count the documents as confirmed.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from kkt_adapter.kkt.errors import KktDeviceError
from kkt_adapter.kkt.shtrih_driver import ShtrihDriver
from kkt_adapter.kkt.types import FiscalItem, FiscalReceipt, SettlementKind
from kkt_adapter.shtrih import codec
from kkt_adapter.shtrih import errors as E
from tests.kit.standins.common import ControlError, StandinProcess
from tests.kit.standins.odoo import API

FN = "9999078900001234"
TOKEN_ANY = "t-any"
TOKEN_A = "t-till-a"


@pytest.fixture(scope="module")
def ofd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandinProcess]:
    proc = StandinProcess.start("ofd", state_dir=tmp_path_factory.mktemp("ofd"))
    yield proc
    assert proc.stop() == 0  # clean exit on SIGTERM


@pytest.fixture(scope="module")
def odoo() -> Iterator[StandinProcess]:
    proc = StandinProcess.start("odoo", args=["--token", TOKEN_ANY, "--token", f"till-a={TOKEN_A}"])
    yield proc
    assert proc.stop() == 0


@pytest.fixture(autouse=True)
def _fresh(request: pytest.FixtureRequest) -> None:
    for name in ("ofd", "odoo"):
        if name in request.fixturenames:
            request.getfixturevalue(name).control.reset()


# ---- OFD -----------------------------------------------------------------------------------------


def message(fd: int, *, fn: str = FN, doc_type: int = 3, tags: tuple[int, ...] = (1040, 1041, 1077)) -> bytes:
    fields = {
        1040: codec.encode_tlv(1040, codec.encode_uint(fd, 4)),
        1041: codec.tlv_string(1041, fn),
        1077: codec.encode_tlv(1077, codec.encode_uint(0xCAFE, 4)),
    }
    return codec.tlv_stlv(doc_type, [fields[t] for t in tags])


def doc(fd: int, raw: bytes | None = None, *, fn: str = FN, doc_type: int = 3) -> dict[str, Any]:
    raw = message(fd, fn=fn, doc_type=doc_type) if raw is None else raw
    return {"fn_number": fn, "fd": fd, "doc_type": doc_type, "message": base64.b64encode(raw).decode()}


def post_docs(ofd: StandinProcess, *docs: dict[str, Any], timeout: float = 5) -> requests.Response:
    return requests.post(ofd.url + "/v1/documents", json={"documents": list(docs)}, timeout=timeout)


def results(resp: requests.Response) -> list[dict[str, Any]]:
    assert resp.status_code == 200, resp.text
    return resp.json()["results"]


def test_emulator_documents_are_accepted_and_their_acks_confirm_them_in_the_fn(
    ofd: StandinProcess, driver: ShtrihDriver
) -> None:
    driver.open_shift()
    item = FiscalItem("Оправа Ray-Ban RB5154", 1_250_000, Decimal(1), 1_250_000, 6)
    driver.fiscalize(FiscalReceipt(kind=SettlementKind.SALE, items=(item,), cash=1_250_000))
    fn = driver.fn_status().fn_number
    fds = driver.list_unconfirmed()
    assert fds == [1, 2] and driver.unconfirmed_count() == 2
    sent = []
    for fd in fds:
        raw = driver.read_unconfirmed_document(fd)
        ((doc_type, _),) = codec.decode_tlvs(raw)
        sent.append(
            {"fn_number": fn, "fd": fd, "doc_type": doc_type, "message": base64.b64encode(raw).decode()}
        )
    first = results(post_docs(ofd, *sent))
    assert [(r["fd"], r["status"], r["reason"]) for r in first] == [
        (1, "accepted", None),
        (2, "accepted", None),
    ]
    acks = {r["fd"]: base64.b64decode(r["ack"]) for r in first}
    with pytest.raises(KktDeviceError) as err:  # the FN checks tag 1040 of the ack
        driver.apply_ofd_ack(1, acks[2])
    assert err.value.code == E.FN_OFD_MESSAGE_REJECTED
    driver.apply_ofd_ack(1, acks[1])
    assert driver.unconfirmed_count() == 1
    driver.apply_ofd_ack(2, acks[2])
    assert driver.unconfirmed_count() == 0 and driver.find_document(2).ofd_confirmed

    again = results(post_docs(ofd, *sent))  # the till lost the answer and sends again
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert {r["fd"]: base64.b64decode(r["ack"]) for r in again} == acks  # same ack bytes every time
    driver.apply_ofd_ack(2, acks[2])  # applying it again is harmless
    assert ofd.control.stats() == {
        "unique_documents": 2,
        "received": 4,
        "duplicates": 2,
        "rejected": 0,
        "by_fn": {fn: 2},
        "requests": 2,
    }
    assert ofd.control.documents() == [
        {"fn_number": fn, "fd": 1, "doc_type": 2, "count": 2},
        {"fn_number": fn, "fd": 2, "doc_type": 3, "count": 2},
    ]


def test_ack_layout(ofd: StandinProcess) -> None:
    (result,) = results(post_docs(ofd, doc(7)))
    ack = dict(codec.decode_tlvs(base64.b64decode(result["ack"])))
    assert codec.decode_uint(ack[1040]) == 7 and len(ack[1040]) == 4 and len(ack[1078]) == 8


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (doc(1, message(2)), "tag 1040 of the message (2) is not FD 1"),
        (doc(1, message(1, fn="9999000000000000")), "tag 1041 of the message"),
        (doc(1, message(1, tags=(1040, 1041))), "lacks tag(s) 1077"),
        (doc(1, message(1, doc_type=2)), "one STLV tagged with the document type 3"),
        (doc(1, message(1) + b"\x01"), "not a valid TLV structure"),
        ({**doc(1), "message": "%%%"}, "not valid base64"),
        ({**doc(1), "fn_number": "123"}, "16 digits"),
        ({**doc(1), "fn_number": "9999078900001234\n"}, "16 digits"),
        ({**doc(1), "fd": 0}, "'fd' must be an integer"),
        ({**doc(1), "fd": True}, "'fd' must be an integer"),
        ({**doc(1), "doc_type": "3"}, "'doc_type'"),
    ],
)
def test_invalid_documents_are_rejected_with_a_reason(ofd: StandinProcess, item: dict, reason: str) -> None:
    good = doc(5)
    bad, ok = results(post_docs(ofd, item, good))  # one bad document does not fail the batch
    assert bad["status"] == "rejected" and reason in bad["reason"] and bad["ack"] is None
    assert ok["status"] == "accepted"
    assert ofd.control.stats()["rejected"] == 1


def test_same_fd_with_other_content_is_rejected(ofd: StandinProcess) -> None:
    results(post_docs(ofd, doc(3)))
    (result,) = results(post_docs(ofd, doc(3, message(3, tags=(1041, 1040, 1077)))))
    assert result["status"] == "rejected" and "different content" in result["reason"]


@pytest.mark.parametrize(
    "body",
    [[], {"documents": []}, {"documents": [doc(n + 1) for n in range(101)]}, {"documents": [1]}, {"x": 1}],
)
def test_malformed_envelope_is_a_problem(ofd: StandinProcess, body: Any) -> None:
    resp = requests.post(ofd.url + "/v1/documents", json=body, timeout=5)
    assert resp.status_code == 400 and resp.headers["Content-Type"] == "application/problem+json"
    assert resp.json()["code"] == "malformed_body"


def test_unknown_routes_and_methods_are_problems(ofd: StandinProcess, odoo: StandinProcess) -> None:
    for resp, status in (
        (requests.get(ofd.url + "/v1/nope", timeout=5), 404),
        (requests.get(ofd.url + "/v1/documents", timeout=5), 405),
        (requests.delete(odoo.url + "/control/stats", timeout=5), 405),
    ):
        assert resp.status_code == status and resp.headers["Content-Type"] == "application/problem+json"


def test_ofd_modes(ofd: StandinProcess) -> None:
    control = ofd.control
    for mode, status in (("down", 503), ("error", 500)):
        control.mode(mode)
        resp = post_docs(ofd, doc(1))
        assert resp.status_code == status and resp.headers["Content-Type"] == "application/problem+json"
    assert control.stats()["received"] == 0 and control.stats()["requests"] == 2

    control.mode("reject", fds=[2])
    assert control.current_mode() == {"mode": "reject", "delay_ms": 0, "clock_skew_ms": 0, "fds": [2]}
    one, two = results(post_docs(ofd, doc(1), doc(2)))
    assert one["status"] == "accepted" and two["status"] == "rejected"
    assert two["reason"] == "rejected by the OFD (format)"
    control.mode("reject")
    assert [r["status"] for r in results(post_docs(ofd, doc(1), doc(3)))] == ["rejected", "rejected"]

    control.mode("duplicate_ack")
    doubled = results(post_docs(ofd, doc(1), doc(4)))
    assert [(r["fd"], r["status"]) for r in doubled] == [(1, "duplicate")] * 2 + [(4, "accepted")] * 2
    assert doubled[0]["ack"] == doubled[1]["ack"]

    with pytest.raises(ControlError, match="'mode' must be one of"):
        control.mode("sideways")
    with pytest.raises(ControlError, match="only goes with mode 'reject'"):
        control.mode("up", fds=[1])


def test_delay_is_applied_after_processing_like_a_lost_answer(ofd: StandinProcess) -> None:
    ofd.control.mode("up", delay_ms=400)
    with pytest.raises(requests.ReadTimeout):
        post_docs(ofd, doc(9), timeout=0.15)
    ofd.control.mode("up", delay_ms=150)
    started = time.monotonic()
    (result,) = results(post_docs(ofd, doc(9)))
    assert time.monotonic() - started >= 0.15
    assert result["status"] == "duplicate"  # the first request was processed although its answer was lost


def test_received_documents_and_acks_survive_a_restart(tmp_path: Path) -> None:
    first = StandinProcess.start("ofd", state_dir=tmp_path)
    try:
        (accepted,) = results(post_docs(first, doc(11)))
    finally:
        assert first.stop() == 0
    second = StandinProcess.start("ofd", state_dir=tmp_path)
    try:
        (again,) = results(post_docs(second, doc(11)))
        assert again["status"] == "duplicate" and again["ack"] == accepted["ack"]
        assert second.control.stats()["unique_documents"] == 1
    finally:
        second.stop()


def test_concurrent_submissions_are_counted_exactly(ofd: StandinProcess) -> None:
    docs = [doc(fd) for fd in range(1, 21)]

    def submit(_: int) -> list[str]:
        with requests.Session() as session:
            resp = session.post(ofd.url + "/v1/documents", json={"documents": docs}, timeout=10)
            return [r["status"] for r in results(resp)]

    with ThreadPoolExecutor(8) as pool:
        statuses = [s for batch in pool.map(submit, range(8)) for s in batch]
    assert statuses.count("accepted") == 20 and statuses.count("duplicate") == 140
    assert ofd.control.stats()["unique_documents"] == 20 and ofd.control.stats()["duplicates"] == 140


def test_cli_refuses_a_bad_listen_address() -> None:
    with pytest.raises(RuntimeError, match="did not start"):
        StandinProcess.start("odoo", listen=("127.0.0.1", 99999), timeout=5)


# ---- Odoo ----------------------------------------------------------------------------------------


def receipt(fd: int, **overrides: Any) -> dict[str, Any]:
    body = {
        "receipt_id": str(uuid.uuid4()),
        "fn_number": FN,
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


def post_receipts(
    odoo: StandinProcess, *items: dict[str, Any], token: str | None = TOKEN_ANY, pos_id: str = "till-b"
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(
        odoo.url + f"{API}/receipts",
        json={"pos_id": pos_id, "receipts": list(items)},
        headers=headers,
        timeout=5,
    )


def heartbeat(
    odoo: StandinProcess, pos_id: str = "till-a", token: str = TOKEN_A, **fields: Any
) -> requests.Response:
    body = {"pos_id": pos_id, "hlc": "001795470000000.00002", "sent_at_ms": 1_795_470_000_000, "status": {}}
    body.update(fields)
    headers = {"Authorization": f"Bearer {token}"}
    return requests.post(odoo.url + f"{API}/heartbeat", json=body, headers=headers, timeout=5)


def test_odoo_standin_counts_and_lists_what_it_recorded(odoo: StandinProcess) -> None:
    sale = receipt(1)
    refund = receipt(2, kind="refund", original_receipt_id=sale["receipt_id"], total=100)
    assert [r["status"] for r in results(post_receipts(odoo, sale, refund))] == ["created", "created"]
    assert [r["status"] for r in results(post_receipts(odoo, sale, refund))] == ["duplicate", "duplicate"]

    moved = results(post_receipts(odoo, {**sale, "fd": 5}))[0]
    assert moved["status"] == "rejected" and "was recorded with FN" in moved["reason"]
    stolen = results(post_receipts(odoo, receipt(1)))[0]
    assert stolen["status"] == "rejected" and "already belongs to receipt" in stolen["reason"]
    orphan = results(post_receipts(odoo, receipt(3, kind="refund", original_receipt_id=str(uuid.uuid4()))))[0]
    assert orphan["status"] == "rejected" and "never received" in orphan["reason"]
    unnamed = results(post_receipts(odoo, receipt(4, kind="refund")))[0]
    assert unnamed["status"] == "rejected" and "must name its original" in unnamed["reason"]

    assert odoo.control.stats() == {
        "unique_receipts": 2,
        "received": 8,
        "duplicates": 2,
        "rejected": 4,
        "heartbeats": 0,
        "requests": 6,
    }
    recorded = odoo.control.receipts()
    assert [(r["receipt_id"], r["count"], r["pos_id"]) for r in recorded] == [
        (sale["receipt_id"], 2, "till-b"),
        (refund["receipt_id"], 2, "till-b"),
    ]


def test_odoo_modes_heartbeat_and_clock_skew(odoo: StandinProcess) -> None:
    control = odoo.control
    control.mode("down")
    assert post_receipts(odoo, receipt(1)).status_code == 503
    assert heartbeat(odoo).status_code == 503
    control.mode("error")
    assert post_receipts(odoo, receipt(1)).status_code == 500
    first, second = receipt(1), receipt(2)
    control.mode("reject", receipt_ids=[second["receipt_id"]])
    statuses = [(r["status"], r["reason"]) for r in results(post_receipts(odoo, first, second))]
    assert statuses == [("created", None), ("rejected", "rejected by Odoo (test mode)")]

    control.mode("up", clock_skew_ms=3_600_000)
    resp = heartbeat(odoo, status={"buffer": {"pending": 3}})
    assert resp.status_code == 200
    assert resp.json()["server_time_ms"] - time.time() * 1000 > 3_500_000
    assert heartbeat(odoo, hlc="x").status_code == 400
    assert heartbeat(odoo, status=None).status_code == 400
    assert heartbeat(odoo, pos_id="till-c").status_code == 403
    last = control.heartbeats()["till-a"]
    assert last["status"] == {"buffer": {"pending": 3}} and last["hlc"] == "001795470000000.00002"
    assert control.stats()["heartbeats"] == 1


def test_recorded_receipts_survive_a_restart(tmp_path: Path) -> None:
    sale = receipt(21)
    first = StandinProcess.start("odoo", state_dir=tmp_path, args=["--token", TOKEN_ANY])
    try:
        assert results(post_receipts(first, sale))[0]["status"] == "created"
    finally:
        assert first.stop() == 0
    second = StandinProcess.start("odoo", state_dir=tmp_path, args=["--token", TOKEN_ANY])
    try:
        refund = receipt(22, kind="refund", original_receipt_id=sale["receipt_id"])
        assert [r["status"] for r in results(post_receipts(second, sale, refund))] == ["duplicate", "created"]
    finally:
        second.stop()
