"""Crash test: ``kill -9`` of the adapter at random moments while two POS clients stream receipts.

After every kill the adapter is restarted and the clients re-send every request they did not get an
answer for, with the same Idempotency-Key (what the POS does). At the end the FN journal of the emulator
(which never dies) is compared with the buffer and with what the clients were told. Printed figures:
acknowledged receipts lost, documents fiscalized twice, FN documents without a buffer row — all must be 0.
``CRASH_ITERATIONS`` (default 500) sets the number of kills.
"""

from __future__ import annotations

import collections
import json
import os
import random
import sqlite3
import threading
import time
import uuid

import pytest
import requests

from tests.kit import replay
from tests.kit.devstack import AdapterProcess, EmulatorProcess

ITERATIONS = int(os.environ.get("CRASH_ITERATIONS", "500"))
CLIENTS = 2  # two POS terminals on one till: requests also queue for the KKT
KILL_WINDOW = (
    0.02,
    0.75,
)  # seconds after spawn; startup takes ~0.25 s, so kills hit boot, recovery and prints
POS_ID = "crash-till"


class Ledger:
    """What the POS side knows: every request it made, and which ones it got an answer for."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bodies: dict[str, dict] = {}
        self.acked: dict[str, dict] = {}
        self.unacked: collections.deque[str] = collections.deque()
        self.resent = 0
        self.errors: list[str] = []

    def take(self) -> tuple[str, dict]:
        with self.lock:
            if self.unacked:
                self.resent += 1
                key = self.unacked.popleft()
                return key, self.bodies[key]
            key = str(uuid.uuid4())
            kind = random.random()
            price = f"{random.randint(100, 20000)}.{random.randint(0, 99):02d}"
            body = {
                "pos_id": POS_ID,
                "type": "sale",
                "items": [{"name": f"Линза {key}", "price": price, "quantity": 1, "vat": 6}],
                "payments": [{"method": "cash" if kind < 0.3 else "card", "amount": price}],
            }
            self.bodies[key] = body
            return key, body

    def answered(self, key: str, response: requests.Response) -> None:
        with self.lock:
            if response.status_code == 200:
                first = self.acked.setdefault(key, response.json())
                if first["receipt_id"] != response.json()["receipt_id"]:
                    self.errors.append(f"{key}: receipt id changed between answers")
            else:
                self.errors.append(f"{key}: HTTP {response.status_code} {response.text[:200]}")
                self.unacked.append(key)

    def lost_answer(self, key: str) -> None:
        with self.lock:
            self.unacked.append(key)


def client_loop(url: str, ledger: Ledger, stop: threading.Event) -> None:
    while not stop.is_set():
        key, body = ledger.take()
        try:
            resp = requests.post(
                url + "/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key}, timeout=10
            )
        except requests.RequestException:
            ledger.lost_answer(key)
            stop.wait(0.005)
            continue
        ledger.answered(key, resp)


def stream(adapter: AdapterProcess, ledger: Ledger, seconds: float | None, until_empty: bool = False) -> None:
    stop = threading.Event()
    threads = [threading.Thread(target=client_loop, args=(adapter.url, ledger, stop)) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    if until_empty:
        while True:
            with ledger.lock:
                if not ledger.unacked:
                    break
            time.sleep(0.01)
    else:
        time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()


@pytest.mark.slow
def test_kill9_loses_nothing_and_prints_nothing_twice(tmp_path):
    emulator = EmulatorProcess(tmp_path / "kkt").start()
    adapter = AdapterProcess(tmp_path / "adapter", emulator.port, pos_id=POS_ID)
    ledger = Ledger()
    rng = random.Random(int(os.environ.get("CRASH_SEED", "54")))
    kills = collections.Counter()
    started = time.monotonic()
    try:
        for _ in range(ITERATIONS):
            adapter.spawn()
            kill_at = time.monotonic() + rng.uniform(*KILL_WINDOW)
            stop = threading.Event()
            threads: list[threading.Thread] = []
            while time.monotonic() < kill_at:
                try:
                    if requests.get(adapter.url + "/v1/health/live", timeout=0.2).status_code == 200:
                        break
                except requests.RequestException:
                    time.sleep(0.01)
            if time.monotonic() < kill_at:
                threads = [
                    threading.Thread(target=client_loop, args=(adapter.url, ledger, stop))
                    for _ in range(CLIENTS)
                ]
                for t in threads:
                    t.start()
                kills["while streaming"] += 1
            else:
                kills["during boot"] += 1
            time.sleep(max(0.0, kill_at - time.monotonic()))
            adapter.kill9()
            stop.set()
            for t in threads:
                t.join()

        # Recovery: one clean start; the POS re-sends what it never got an answer for.
        adapter.start()
        stream(adapter, ledger, None, until_empty=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status = requests.get(adapter.url + "/v1/kkt/buffer/status", timeout=5).json()
            if status["not_printed"] == 0:
                break
            time.sleep(0.2)
        finals = {}
        for key in ledger.acked:  # the final word for every acknowledged sale: replay its key
            resp = requests.post(
                adapter.url + "/v1/kkt/receipt",
                json=ledger.bodies[key],
                headers={"Idempotency-Key": key},
                timeout=30,
            )
            finals[key] = resp.json()
        adapter.stop()
        fn_docs = [d for d in emulator.control.journal() if d["type"] in (3, 31)]
    finally:
        adapter.kill9()
        emulator.stop()

    db = sqlite3.connect(adapter.db_path)
    keys = dict(db.execute("SELECT key, receipt_id FROM idempotency_keys"))
    printed = {
        rid: (fn, fd)
        for rid, fn, fd in db.execute(
            "SELECT id, fn_number, fd_number FROM receipts WHERE fiscal_status='printed'"
        )
    }
    statuses = collections.Counter(s for (s,) in db.execute("SELECT fiscal_status FROM receipts"))
    events = collections.Counter(e for (e,) in db.execute("SELECT event_type FROM buffer_events"))
    by_receipt = collections.defaultdict(list)
    for rid, ev in db.execute(
        "SELECT receipt_id, event_type FROM buffer_events WHERE receipt_id IS NOT NULL ORDER BY id"
    ):
        by_receipt[rid].append(ev)
    replay_mismatch = [
        rid
        for rid, status in db.execute("SELECT id, fiscal_status FROM receipts")
        if replay.replay_fiscal_status(by_receipt[rid]) != status
    ]

    lost = [
        key
        for key, answer in ledger.acked.items()
        if keys.get(key) != answer["receipt_id"]
        or finals[key].get("status") != "printed"
        or answer["receipt_id"] not in printed
    ]
    per_key = collections.Counter(d["items"][0]["name"].split(" ", 1)[1] for d in fn_docs)
    twice = sum(n - 1 for n in per_key.values() if n > 1)
    fd_to_receipt = {v: rid for rid, v in printed.items()}
    orphans = [
        d
        for d in fn_docs
        if (d["fn_number"], d["fd"]) not in fd_to_receipt
        or keys.get(d["items"][0]["name"].split(" ", 1)[1]) != fd_to_receipt[(d["fn_number"], d["fd"])]
    ]
    elapsed = time.monotonic() - started
    print(
        "\nCRASH TEST (kill -9 of kkt-adapter)\n"
        f"  iterations (kills)                 {ITERATIONS}  ({dict(kills)})\n"
        f"  requests acknowledged              {len(ledger.acked)}\n"
        f"  requests re-sent after a kill      {ledger.resent}\n"
        f"  FN receipts                        {len(fn_docs)}\n"
        f"  buffer fiscal statuses             {dict(statuses)}\n"
        f"  reconciliations after a kill       printed={events['reconciled_printed']} "
        f"not_printed={events['reconciled_not_printed']}\n"
        f"  acknowledged receipts lost         {len(lost)}\n"
        f"  documents fiscalized twice         {twice}\n"
        f"  FN documents without a buffer row  {len(orphans)}\n"
        f"  duration                           {elapsed:.0f} s"
    )
    assert not ledger.errors, ledger.errors[:5]
    assert lost == [], lost[:5]
    assert twice == 0, per_key.most_common(3)
    assert orphans == [], json.dumps(orphans[:3], ensure_ascii=False)
    assert replay_mismatch == []
    assert len(fn_docs) == len(ledger.acked) == statuses["printed"]
    if ITERATIONS >= 100:
        # The test must actually have killed the adapter with receipts in doubt.
        assert events["reconciled_printed"] + events["reconciled_not_printed"] > 0
