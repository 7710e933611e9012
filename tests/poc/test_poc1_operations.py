"""POC-1: the KKT emulator and 50 fiscal operations (sales, refunds, corrections, X, Z) through the adapter.

The adapter runs as in production (gunicorn, 1 worker) and talks to the emulator over a pty; it delivers
to the OFD and Odoo stand-ins in the background. Every operation must succeed, every receipt the adapter
reports must be the FN's document (FD, FP, total), and refunds go through the saga: each is made only
once its sale was delivered.
"""

from __future__ import annotations

import collections
import random
import statistics
import time
import uuid

import pytest
import requests

from tests.kit.devstack import AdapterProcess, EmulatorProcess
from tests.kit.standins.common import StandinProcess

POS_ID = "poc1-till"
PRODUCTS = [  # (name, price, FFD 1199 VAT code from product data)
    ("Оправа Ray-Ban RB5154", "8500.00", 6),
    ("Линза очковая 1.6 AR", "3200.00", 6),
    ("Контактные линзы Acuvue Oasys (6 шт.)", "2890.00", 6),
    ("Солнцезащитные очки Polaroid", "5400.00", 11),
    ("Футляр для очков", "450.00", 11),
    ("Раствор для линз 360 мл", "690.50", 11),
]


def sale(rng: random.Random) -> dict:
    lines = []
    for name, price, vat in rng.sample(PRODUCTS, rng.randint(1, 3)):
        lines.append({"name": name, "price": price, "quantity": rng.choice([1, 1, 2]), "vat": vat})
    total = sum(round(float(i["price"]) * 100) * i["quantity"] for i in lines)
    cash = rng.choice([0, total, total // 2])
    payments = [{"method": "cash", "amount": f"{cash / 100:.2f}"}] if cash else []
    if total - cash:
        payments.append({"method": "card", "amount": f"{(total - cash) / 100:.2f}"})
    body = {"pos_id": POS_ID, "type": "sale", "items": lines, "payments": payments}
    if rng.random() < 0.3:
        body["buyer_contact"] = "+79161234567"
    return body


def wait_delivered(adapter: AdapterProcess, receipt_id: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = requests.get(
            f"{adapter.url}/v1/kkt/receipt/{receipt_id}", headers=adapter.admin(), timeout=5
        ).json()
        if view["status"] == "synced":
            return
        time.sleep(0.1)
    raise AssertionError(f"sale {receipt_id} was not delivered within {timeout} s")


@pytest.mark.slow
def test_poc1_fifty_operations(tmp_path):
    rng = random.Random(1)
    emulator = EmulatorProcess(tmp_path / "kkt").start()
    ofd = StandinProcess.start("ofd", log_path=tmp_path / "ofd.log")
    odoo = StandinProcess.start("odoo", args=["--token", f"{POS_ID}=t"], log_path=tmp_path / "odoo.log")
    adapter = AdapterProcess(
        tmp_path / "adapter",
        emulator.port,
        pos_id=POS_ID,
        ofd_url=ofd.url,
        odoo_url=odoo.url,
        odoo_token="t",
        extra_env={"KKT_ADAPTER_SYNC__RELAY_INTERVAL_SECONDS": "0.2"},
    ).start()
    ops: list[tuple[str, float, dict]] = []
    sales: list[tuple[dict, dict]] = []

    def call(kind: str, method: str, path: str, body: dict | None = None) -> dict:
        started = time.monotonic()
        headers = {"Idempotency-Key": str(uuid.uuid4())} if body is not None else {}
        resp = requests.request(method, adapter.url + path, json=body, headers=headers, timeout=30)
        assert resp.status_code == 200, f"{kind}: {resp.status_code} {resp.text}"
        data = resp.json()
        if body is not None:
            assert data["status"] == "printed", data
        ops.append((kind, time.monotonic() - started, data))
        return data

    try:
        call("shift open", "POST", "/v1/kkt/shift/open")
        for i in range(25):
            body = sale(rng)
            sales.append((body, call("sale", "POST", "/v1/kkt/receipt", body)))
            if i % 10 == 9:
                call("X report", "POST", "/v1/kkt/report/x")
        for body, answer in sales[:8]:
            wait_delivered(adapter, answer["receipt_id"])
            refund = {**body, "type": "refund", "original_receipt_id": answer["receipt_id"]}
            refund.pop("buyer_contact", None)
            call("refund", "POST", "/v1/kkt/receipt", refund)
        for n in range(5):
            body = sale(rng)
            body["type"] = "correction"
            body["correction"] = {
                "type": n % 2,
                "basis_date": "2026-11-20",
                "basis_number": f"ПР-{n}" if n % 2 else "",
                "settlement": "sale" if n < 4 else "refund",
            }
            call("correction", "POST", "/v1/kkt/receipt", body)
        call("X report", "POST", "/v1/kkt/report/x")
        call("Z report", "POST", "/v1/kkt/shift/close")
        call("shift open", "POST", "/v1/kkt/shift/open")
        for _ in range(5):
            call("sale", "POST", "/v1/kkt/receipt", sale(rng))
        call("Z report", "POST", "/v1/kkt/shift/close")
        docs = {d["fd"]: d for d in emulator.control.journal()}
    finally:
        adapter.stop()
        emulator.stop()
        ofd.stop()
        odoo.stop()

    kinds = collections.Counter(kind for kind, _, _ in ops)
    assert len(ops) == 50
    assert kinds == {
        "sale": 30,
        "refund": 8,
        "correction": 5,
        "X report": 3,
        "Z report": 2,
        "shift open": 2,
    }
    for kind, _, data in ops:
        if "fiscal_doc" in data:
            doc = docs[data["fiscal_doc"]["fd_number"]]
            assert doc["fp"] == data["fiscal_doc"]["fiscal_sign"]
            assert f"{doc['total'] / 100:.2f}" == data["fiscal_doc"]["total"]
            assert doc["type"] == (31 if kind == "correction" else 3)
            assert doc["settlement"] == (2 if kind == "refund" else doc["settlement"])
    fn_types = collections.Counter(d["type"] for d in docs.values())
    assert fn_types == {3: 38, 31: 5, 2: 2, 5: 2}  # receipts, corrections, shift opens, shift closes
    per_kind = {k: statistics.median(s for kk, s, _ in ops if kk == k) * 1000 for k in kinds}
    print("\nPOC-1: 50 operations, all passed; median ms per kind:")
    for k, ms in sorted(per_kind.items()):
        print(f"  {k:<12} n={kinds[k]:<3} {ms:7.1f} ms")
