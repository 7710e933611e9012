"""``make demo``: a scripted sales day on a local till stack, everything on loopback.

The stack: KKT emulator on a pty, the adapter under gunicorn, and the OFD and Odoo stand-ins. The day:
open shift, sales of frames, lenses and sunglasses (VAT from product data), an e-receipt, a retried
request that must not print twice, a KKT outage (register unplugged: sales are journaled ``buffered``
and printed when it is back), an OFD outage (sales go on, the circuit breaker opens, the backlog drains on
recovery and the FN's unconfirmed documents are acknowledged), a refund through the saga, a correction,
X and Z reports. Finally every FN document is checked against the buffer and the two endpoints.
Runs in ./demo-run/ (git-ignored), which is kept for inspection.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

from tests.kit.devstack import AdapterProcess, EmulatorProcess
from tests.kit.standins.common import StandinProcess

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import DayMeasurement, receipts, summary_lines, written_twice

RUN_DIR = Path.cwd() / "demo-run"
POS_ID = "store01-till1"
DEMO_TOKEN = "demo"  # noqa: S105 - the till's token at the local Odoo stand-in

CATALOGUE = {
    "frame": ("Оправа Ray-Ban RB5154", "8500.00", 6),  # corrective frames: VAT-exempt (1199 = 6)
    "lens": ("Линза очковая 1.6 AR", "3200.00", 6),
    "sun": ("Солнцезащитные очки Polaroid", "5400.00", 11),  # not corrective: 22 % (1199 = 11)
    "case": ("Футляр для очков", "450.00", 11),
    "cloth": ("Салфетка из микрофибры", "150.00", 11),
}


def line(key: str, qty: int = 1) -> dict:
    name, price, vat = CATALOGUE[key]
    return {"name": name, "price": price, "quantity": qty, "vat": vat}


def sale(items: list[dict], method: str = "card", **extra) -> dict:
    total = sum(round(float(i["price"]) * 100) * i["quantity"] for i in items)
    return {
        "pos_id": POS_ID,
        "type": "sale",
        "items": items,
        "payments": [{"method": method, "amount": f"{total / 100:.2f}"}],
        **extra,
    }


class Day:
    def __init__(
        self, adapter: AdapterProcess, emulator: EmulatorProcess, ofd: StandinProcess, odoo: StandinProcess
    ):
        self.adapter = adapter
        self.emulator = emulator
        self.ofd = ofd
        self.odoo = odoo
        self.answers: list[tuple[str, dict]] = []

    def say(self, text: str) -> None:
        print(f"  {time.strftime('%H:%M:%S')}  {text}", flush=True)

    def receipt(self, title: str, body: dict, key: str | None = None) -> dict:
        key = key or str(uuid.uuid4())
        started = time.monotonic()
        resp = self.adapter.post_receipt(body, key)
        ms = (time.monotonic() - started) * 1000
        data = resp.json()
        if resp.status_code != 200:
            raise SystemExit(f"demo: {title} failed: {resp.status_code} {data}")
        fd = data["fiscal_doc"]["fd_number"] if data["fiscal_doc"] else "-"
        replay = " (replayed)" if resp.headers.get("Idempotent-Replayed") else ""
        self.say(f"{title:<44} {data['status']:<9} FD {fd:<4} {ms:6.0f} ms{replay}")
        self.answers.append((key, data))
        return data

    def admin(self, method: str, path: str) -> dict:
        resp = requests.request(method, self.adapter.url + path, headers=self.adapter.admin(), timeout=60)
        if resp.status_code >= 400:
            raise SystemExit(f"demo: {path} failed: {resp.status_code} {resp.text}")
        return resp.json()

    def wait_printed(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = requests.get(self.adapter.url + "/v1/kkt/buffer/status", timeout=5).json()
            if st["not_printed"] == 0:
                return
            time.sleep(0.2)
        raise SystemExit("demo: buffered receipts were not printed after the KKT came back")

    def health(self) -> dict:
        return requests.get(self.adapter.url + "/v1/health", timeout=5).json()

    def wait_for(self, what: str, predicate, timeout: float = 60) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if predicate():
                return time.monotonic() - started
            time.sleep(0.2)
        raise SystemExit(f"demo: {what} did not happen within {timeout} s")

    def queued(self) -> int:
        return requests.get(self.adapter.url + "/v1/kkt/buffer/status", timeout=5).json()["current_queued"]

    def ofd_outage(self) -> None:
        print("\n== Сбой: ОФД недоступен ==")
        self.ofd.control.mode("down")
        for i in range(4):
            self.receipt(f"продажа без связи с ОФД #{i + 1}", sale([line("lens"), line("case")]))
        self.wait_for(
            "breaker opening", lambda: self.health()["components"]["circuit_breaker"]["state"] == "OPEN"
        )
        h = self.health()
        endpoints = h["components"]["circuit_breaker"]["endpoints"]
        breakers = ", ".join(f"{name} {state}" for name, state in endpoints.items())
        self.say(f"circuit breaker: {breakers}; состояние адаптера: {h['status']}")
        self.say(f"в буфере ждут доставки: {receipts(self.queued())}; продажи продолжаются")
        self.receipt("продажа при открытом breaker", sale([line("cloth")], "cash"))
        print("\n== Восстановление ОФД ==")
        before = self.admin("GET", "/v1/kkt/fn")["ofd_queue_size"]  # read before the backlog drains
        self.ofd.control.mode("up")
        drained = self.wait_for("backlog drain", lambda: self.queued() == 0)
        breaker = self.health()["components"]["circuit_breaker"]["state"]
        self.say(f"буфер опустел за {drained:.1f} с; breaker: {breaker}")
        self.wait_for(
            "OFD acknowledgments in the FN", lambda: self.admin("GET", "/v1/kkt/fn")["ofd_queue_size"] == 0
        )
        after = self.admin("GET", "/v1/kkt/fn")["ofd_queue_size"]
        self.say(f"квитанции ОФД переданы в ФН: неподтверждённых документов было {before}, стало {after}")

    def run(self) -> None:
        print("\n== Утро: открытие смены ==")
        shift = self.admin("POST", "/v1/kkt/shift/open")
        self.say(f"смена {shift['shift_number']} открыта, FD {shift['fd_number']}")

        print("\n== Продажи ==")
        self.say(f"сеть: {self.health()['components']['network']['status']}")
        first = self.receipt(
            "очки: оправа + 2 линзы (НДС не облагается)", sale([line("frame"), line("lens", 2)])
        )
        self.receipt("солнцезащитные очки + футляр (НДС 22 %)", sale([line("sun"), line("case")], "cash"))
        self.receipt(
            "эл. чек на e-mail покупателя",
            sale([line("cloth", 3)], buyer_contact="buyer@example.ru"),
        )
        key = str(uuid.uuid4())
        body = sale([line("lens", 2)])
        self.receipt("линзы (запрос)", body, key)
        again = self.receipt("тот же запрос повторён POS (сеть моргнула)", body, key)
        assert again["receipt_id"] == self.answers[-2][1]["receipt_id"]

        print("\n== Сбой: ККТ отключена (кабель выдернут) ==")
        self.emulator.control.silent(True)
        buffered = [
            self.receipt("продажа во время сбоя ККТ", sale([line("case")], "cash")),
            self.receipt("ещё одна продажа во время сбоя", sale([line("frame")])),
        ]
        health = requests.get(self.adapter.url + "/v1/health", timeout=5).json()
        self.say(f"health: {health['status']}, ККТ: {health['components']['kkt']['status']}")
        print("\n== Восстановление: ККТ снова на связи ==")
        self.emulator.control.silent(False)
        self.wait_printed()
        for data in buffered:
            show = self.admin("GET", f"/v1/kkt/receipt/{data['receipt_id']}")
            self.say(f"отложенный чек {data['receipt_id'][:8]}… напечатан, FD {show['fd_number']}")

        self.ofd_outage()

        print("\n== Возврат (сага) и коррекция ==")
        refund = {**sale([line("frame")]), "type": "refund", "original_receipt_id": first["receipt_id"]}
        self.receipt("возврат оправы по доставленному чеку покупки", refund)
        correction = {
            **sale([line("cloth")], "cash"),
            "type": "correction",
            "correction": {"type": 0, "basis_date": time.strftime("%Y-%m-%d"), "settlement": "sale"},
        }
        self.receipt("чек коррекции (продажа без чека)", correction)

        print("\n== Вечер: отчёты ==")
        x = self.admin("POST", "/v1/kkt/report/x")
        self.say(f"X-отчёт по смене {x['shift_number']}")
        z = self.admin("POST", "/v1/kkt/shift/close")
        self.say(f"Z-отчёт: смена {z['shift_number']} закрыта, FD {z['fd_number']}")
        waited = self.wait_for(
            "end-of-day delivery",
            lambda: self.queued() == 0 and self.admin("GET", "/v1/kkt/fn")["ofd_queue_size"] == 0,
        )
        self.say(f"все документы дня у ОФД и в Odoo, квитанции в ФН ({waited:.1f} с после Z)")

    def summary(self) -> int:
        journal = self.emulator.control.journal()
        receipts_fn = [d for d in journal if d.get("type") in (3, 31)]
        texts = Counter(d.get("text", "") for d in receipts_fn)
        duplicates = sum(n - 1 for n in texts.values() if n > 1)
        db = sqlite3.connect(self.adapter.db_path)
        rows = {
            (fn, fd): rid
            for rid, fn, fd in db.execute(
                "SELECT id, fn_number, fd_number FROM receipts WHERE fd_number IS NOT NULL"
            )
        }
        kinds = Counter(k for (k,) in db.execute("SELECT kind FROM receipts WHERE fiscal_status = 'printed'"))
        orphans = [d for d in receipts_fn if (d.get("fn_number"), d.get("fd")) not in rows]
        events = Counter(e for (e,) in db.execute("SELECT event_type FROM buffer_events"))
        ofd, odoo = self.ofd.control.stats(), self.odoo.control.stats()
        m = DayMeasurement(
            fn_documents=len(journal),
            fn_receipts=len(receipts_fn),
            fn_receipts_twice=duplicates,
            orphans=len(orphans),
            printed_kinds=kinds,
            events=events,
            ofd_unique=ofd["unique_documents"],
            ofd_twice=written_twice((d["fn_number"], d["fd"]) for d in self.ofd.control.documents()),
            ofd_resends_absorbed=ofd["duplicates"],
            odoo_unique=odoo["unique_receipts"],
            odoo_twice=written_twice((r["fn_number"], r["fd"]) for r in self.odoo.control.receipts()),
            odoo_resends_absorbed=odoo["duplicates"],
            dlq=len(self.admin("GET", "/v1/kkt/dlq")),
        )
        print("\n== Итог дня ==")
        for text in summary_lines(m):
            print(f"  {text}")
        print(f"  данные прогона: {RUN_DIR}")
        return 0 if m.ok else 1


def main() -> int:
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    emulator = EmulatorProcess(RUN_DIR / "kkt").start()
    ofd = StandinProcess.start("ofd", state_dir=RUN_DIR / "ofd", log_path=RUN_DIR / "ofd.log")
    odoo = StandinProcess.start(
        "odoo", args=["--token", f"{POS_ID}={DEMO_TOKEN}"], log_path=RUN_DIR / "odoo.log"
    )
    # Time is compressed for the demo: the breaker retries after 5 s (60 s on a till), backoff <= 1 s.
    adapter = AdapterProcess(
        RUN_DIR / "adapter",
        emulator.port,
        pos_id=POS_ID,
        capacity=200,
        ofd_url=ofd.url,
        odoo_url=odoo.url,
        odoo_token=DEMO_TOKEN,
        extra_env={
            "KKT_ADAPTER_SYNC__RELAY_INTERVAL_SECONDS": "0.3",
            "KKT_ADAPTER_SYNC__BREAKER_RESET_SECONDS": "5",
            "KKT_ADAPTER_SYNC__BACKOFF_BASE_SECONDS": "0.2",
            "KKT_ADAPTER_SYNC__BACKOFF_MAX_SECONDS": "1",
            "KKT_ADAPTER_HEARTBEAT__INTERVAL_SECONDS": "2",
        },
    )
    try:
        adapter.start()
        print(f"OpticsERP demo: адаптер {adapter.url}, ККТ {emulator.port}, ОФД {ofd.url}, Odoo {odoo.url}")
        day = Day(adapter, emulator, ofd, odoo)
        day.run()
        return day.summary()
    finally:
        adapter.stop()
        emulator.stop()
        ofd.stop()
        odoo.stop()


if __name__ == "__main__":
    sys.exit(main())
