"""Fleet helpers for scenario tests: tills (emulator + adapter) sharing a NetLab with the OFD/Odoo stand-ins.

``Till`` is one till as in production (the KKT emulator on a pty, the adapter under gunicorn) with the
cashier's and the admin's calls; ``lab_with_standins`` a namespace with both stand-ins; ``wait_all`` polls
named convergence probes; ``verify_exactly_once`` checks FN journals against what the endpoints recorded.
Used by POC-4, POC-5 and the drain benchmark.
"""

from __future__ import annotations

import collections
import contextlib
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.kit import netlab
from tests.kit.devstack import AdapterProcess, EmulatorProcess
from tests.kit.netlab import NetLab
from tests.kit.standins.common import StandinProcess

FN_NUMBERS = {"till-1": "9999000000000001", "till-2": "9999000000000002"}
RECEIPT_DOC_TYPES = (3, 31)  # FN journal: receipt, correction receipt

#: The adapters' timers compressed so an outage scenario fits into seconds (every value is a real
#: setting of config.py; the production defaults are minutes).
FAST_TIMERS = {
    "KKT_ADAPTER_SYNC__BREAKER_RESET_SECONDS": "2",
    "KKT_ADAPTER_SYNC__BACKOFF_BASE_SECONDS": "0.2",
    "KKT_ADAPTER_SYNC__BACKOFF_MAX_SECONDS": "2",
    "KKT_ADAPTER_SYNC__RELAY_INTERVAL_SECONDS": "0.5",
    "KKT_ADAPTER_HEARTBEAT__INTERVAL_SECONDS": "1",
    "KKT_ADAPTER_FN_WATCH__INTERVAL_SECONDS": "1",
    "KKT_ADAPTER_OFD__TIMEOUT_SECONDS": "2",
    "KKT_ADAPTER_ODOO__TIMEOUT_SECONDS": "2",
}

needs_lab = pytest.mark.skipif(
    netlab.unavailable_reason() is not None, reason=str(netlab.unavailable_reason())
)


# ---- waiting ---------------------------------------------------------------------------------------


def wait_all(
    conditions: dict[str, Callable[[], tuple[bool, Any]]], timeout: float, interval: float = 0.2
) -> dict[str, float]:
    """Poll every condition until all hold; returns the seconds at which each first held.

    A condition is ``name -> probe``, the probe returning ``(done, what it saw)``; a probe that raises
    counts as not done (an endpoint may be unreachable meanwhile). Past ``timeout`` an AssertionError names
    every condition that never held and what its probe saw last.
    """
    started = time.monotonic()
    done: dict[str, float] = {}
    seen: dict[str, Any] = {}
    while True:
        for name, probe in conditions.items():
            if name in done:
                continue
            try:
                ok, seen[name] = probe()
            except Exception as exc:  # noqa: BLE001 - shown in the failure message
                ok, seen[name] = False, f"{type(exc).__name__}: {exc}"
            if ok:
                done[name] = time.monotonic() - started
        if len(done) == len(conditions):
            return done
        if time.monotonic() - started > timeout:
            missing = {name: seen.get(name) for name in conditions if name not in done}
            raise AssertionError(f"not converged within {timeout:.0f} s: {missing}")
        time.sleep(interval)


def read_db(path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """A read-only query on a running adapter's buffer (WAL: readers never block its writers)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


# ---- the network and the endpoints -----------------------------------------------------------------


def token_of(pos_id: str) -> str:
    return f"token-{pos_id}"


@contextlib.contextmanager
def lab_with_standins(
    workdir: Path, pos_ids: tuple[str, ...]
) -> Iterator[tuple[NetLab, StandinProcess, StandinProcess]]:
    """A NetLab namespace with the OFD and Odoo stand-ins (one bearer token per till); closed on exit."""
    workdir.mkdir(parents=True, exist_ok=True)  # NetLab writes the stand-ins' logs there
    lab = NetLab(workdir)
    try:
        lab.open()
        ofd = lab.spawn_standin("ofd")
        odoo = lab.spawn_standin("odoo", args=[a for p in pos_ids for a in ("--token", f"{p}={token_of(p)}")])
        yield lab, ofd, odoo
    finally:
        lab.close()


# ---- a till: emulator + adapter --------------------------------------------------------------------


@dataclass
class Till:
    """One till as in production: the KKT emulator on a pty and the adapter under gunicorn."""

    pos_id: str
    emulator: EmulatorProcess
    adapter: AdapterProcess
    session: requests.Session = field(default_factory=requests.Session)
    sold: dict[str, dict] = field(default_factory=dict)  # Idempotency-Key -> body
    answers: dict[str, dict] = field(default_factory=dict)  # Idempotency-Key -> first 200 answer

    @classmethod
    def start(
        cls,
        workdir: Path,
        pos_id: str,
        *,
        ofd_url: str,
        odoo_url: str,
        env: dict[str, str] | None = None,
        baud: int = 115200,
        odoo_token: str | None = None,
        fn_number: str | None = None,
    ) -> Till:
        fn_number = fn_number or FN_NUMBERS.get(pos_id)
        emulator = EmulatorProcess(
            workdir / f"{pos_id}-kkt", baud=baud, extra=("--fn-number", fn_number) if fn_number else ()
        ).start()
        adapter = AdapterProcess(
            workdir / f"{pos_id}-adapter",
            emulator.port,
            pos_id=pos_id,
            ofd_url=ofd_url,
            odoo_url=odoo_url,
            odoo_token=odoo_token or token_of(pos_id),
            extra_env={**FAST_TIMERS, **(env or {})},
        )
        try:
            adapter.start()
        except BaseException:
            adapter.kill9()
            emulator.stop()
            raise
        return cls(pos_id, emulator, adapter)

    def stop(self) -> None:
        self.session.close()
        try:
            self.adapter.stop()
        finally:
            self.emulator.stop()

    # -- cashier side --

    def body(self, key: str) -> dict:
        """A sale whose first line names its Idempotency-Key, so the FN journal can be matched to it."""
        price = f"{1000 + len(self.sold) * 7 % 9000}.{len(self.sold) % 100:02d}"
        return {
            "pos_id": self.pos_id,
            "type": "sale",
            "items": [{"name": f"Линза {key}", "price": price, "quantity": 1, "vat": 6}],
            "payments": [{"method": "card", "amount": price}],
        }

    def sell(self, key: str | None = None, timeout: float = 30.0) -> tuple[str, requests.Response]:
        """A new sale (or, with ``key``, the POS re-sending that sale with the same key and body)."""
        if key is None:
            key = str(uuid.uuid4())
            self.sold[key] = self.body(key)
        resp = self.session.post(
            self.adapter.url + "/v1/kkt/receipt",
            json=self.sold[key],
            headers={"Idempotency-Key": key},
            timeout=timeout,
        )
        if resp.status_code == 200 and resp.json().get("status") == "printed":
            self.answers.setdefault(key, resp.json())
        return key, resp

    # -- what the till says about itself --

    def get(self, path: str, admin: bool = False) -> Any:
        resp = self.session.get(
            self.adapter.url + path, headers=self.adapter.admin() if admin else {}, timeout=10
        )
        resp.raise_for_status()
        return resp.json()

    def status(self) -> dict:
        return self.get("/v1/kkt/buffer/status")

    def components(self) -> dict:
        return self.get("/v1/health")["components"]

    def fn(self) -> dict:
        return self.get("/v1/kkt/fn")

    def dlq(self) -> list:
        return self.get("/v1/kkt/dlq", admin=True)

    def breakers(self) -> dict[str, str]:
        return self.components()["circuit_breaker"]["endpoints"]

    def breaker_opens(self, endpoint: str | None = None) -> int:
        """How often the breakers (or the one of ``endpoint``) opened, from the buffer's counters."""
        sql = "SELECT labels, value FROM counters WHERE name = 'kkt_circuit_breaker_opens_total'"
        rows = read_db(self.adapter.db_path, sql)
        return int(sum(v for labels, v in rows if endpoint is None or labels == f"endpoint={endpoint}"))

    def breakers_opened(self, *endpoints: str) -> tuple[bool, Any]:
        """Probe: these breakers have opened and not closed since (a trial call in flight shows
        HALF_OPEN for up to a timeout, so the plain state alone would be a racy thing to wait for)."""
        states = self.breakers()
        ok = all(states.get(e) in ("OPEN", "HALF_OPEN") and self.breaker_opens(e) > 0 for e in endpoints)
        return ok, states

    def receipt_statuses(self) -> dict[str, int]:
        return dict(read_db(self.adapter.db_path, "SELECT status, count(*) FROM receipts GROUP BY status"))

    def fn_journal(self) -> list[dict]:
        return self.emulator.control.journal()

    # -- convergence probes --

    def drained(self) -> tuple[bool, Any]:
        st = self.status()
        return st["current_queued"] == 0 and st["not_printed"] == 0, st

    def acks_back(self) -> tuple[bool, Any]:
        queue = self.fn()["ofd_queue_size"]
        return queue == 0, f"FN ofd_queue_size={queue}"


def network_in(till: Till, *states: str) -> tuple[bool, Any]:
    """Probe: the till's heartbeat-based network status is one of ``states``."""
    seen = till.components()["network"]["status"]
    return seen in states, seen


def start_tills(
    workdir: Path, pos_ids: tuple[str, ...], ofd: StandinProcess, odoo: StandinProcess, **kwargs: Any
) -> list[Till]:
    """Start the tills one by one; on a failure the ones already started are stopped again."""
    tills: list[Till] = []
    try:
        for pos_id in pos_ids:
            tills.append(Till.start(workdir, pos_id, ofd_url=ofd.url, odoo_url=odoo.url, **kwargs))
    except BaseException:
        stop_tills(tills)
        raise
    return tills


def stop_tills(tills: list[Till]) -> None:
    for till in tills:
        with contextlib.suppress(Exception):
            till.stop()


def endpoint_conditions(
    tills: list[Till], ofd: StandinProcess, odoo: StandinProcess
) -> dict[str, Callable[[], tuple[bool, Any]]]:
    """Everything delivered: the OFD has every FN document, Odoo every receipt, the tills are empty and
    the acknowledgments are back in the FNs. Expected counts come from the FN journals themselves."""

    def fn_documents() -> int:
        return sum(till.fn()["last_fd"] for till in tills)

    def ofd_complete() -> tuple[bool, Any]:
        stats = ofd.control.stats()
        return stats["unique_documents"] == fn_documents(), stats

    def odoo_complete() -> tuple[bool, Any]:
        stats = odoo.control.stats()
        return stats["unique_receipts"] == sum(len(t.answers) for t in tills), stats

    conditions = {"OFD has every FN document": ofd_complete, "Odoo has every receipt": odoo_complete}
    for till in tills:
        conditions[f"{till.pos_id} buffer empty"] = till.drained
        conditions[f"{till.pos_id} acks back in the FN"] = till.acks_back
    return conditions


def verify_exactly_once(tills: list[Till], ofd: StandinProcess, odoo: StandinProcess) -> dict[str, int]:
    """Each FN journal holds every sale once; the OFD recorded each FN document once and Odoo each receipt
    once (exactly the FN's, no more, no less); every receipt is synced and no DLQ entry exists.
    Returns the absorbed retries (duplicates the stand-ins answered) for the figures."""
    fn_docs: set[tuple[str, int]] = set()
    fn_receipts: dict[tuple[str, int], str] = {}
    for till in tills:
        journal = till.fn_journal()
        fn_docs |= {(d["fn_number"], d["fd"]) for d in journal}
        receipts = [d for d in journal if d["type"] in RECEIPT_DOC_TYPES]
        per_key = collections.Counter(d["items"][0]["name"].split(" ", 1)[1] for d in receipts)
        twice = {k: n for k, n in per_key.items() if n > 1}
        assert not twice, f"{till.pos_id}: sales fiscalized more than once: {twice}"
        assert set(per_key) == set(till.sold), (
            f"{till.pos_id}: FN journal and the sales differ: "
            f"{len(set(per_key) - set(till.sold))} unknown, {len(set(till.sold) - set(per_key))} missing"
        )
        assert set(till.answers) == set(till.sold), f"{till.pos_id}: sales without a printed answer"
        for answer in till.answers.values():
            doc = answer["fiscal_doc"]
            fn_receipts[(doc["fn_number"], doc["fd_number"])] = answer["receipt_id"]
        statuses = till.receipt_statuses()
        assert statuses == {"synced": len(till.sold)}, f"{till.pos_id}: receipt statuses {statuses}"
        assert till.dlq() == [], f"{till.pos_id}: DLQ not empty: {till.dlq()}"
        assert till.status()["dlq_size"] == 0
    documents = ofd.control.documents()
    recorded = [(d["fn_number"], d["fd"]) for d in documents]
    assert len(recorded) == len(set(recorded)), "the OFD recorded a document twice"
    assert set(recorded) == fn_docs, (
        f"OFD vs FN journals: {len(set(recorded) - fn_docs)} unknown, {len(fn_docs - set(recorded))} missing"
    )
    receipts = odoo.control.receipts()
    ids = collections.Counter(r["receipt_id"] for r in receipts)
    assert all(n == 1 for n in ids.values()), f"Odoo recorded a receipt twice: {ids.most_common(3)}"
    assert {(r["fn_number"], r["fd"]): r["receipt_id"] for r in receipts} == fn_receipts, (
        "Odoo's receipts are not exactly the FN's receipts with the ids the tills answered"
    )
    ofd_stats, odoo_stats = ofd.control.stats(), odoo.control.stats()
    assert ofd_stats["unique_documents"] == len(fn_docs) and ofd_stats["rejected"] == 0, ofd_stats
    assert odoo_stats["unique_receipts"] == len(fn_receipts) and odoo_stats["rejected"] == 0, odoo_stats
    return {"ofd_duplicates": ofd_stats["duplicates"], "odoo_duplicates": odoo_stats["duplicates"]}
