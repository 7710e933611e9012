"""The POS reopens and sells with Odoo unreachable, and Local Network Access is the store origin's alone.

A store as it runs, on real servers (issue 13's acceptance):

* Odoo (``odoo-bin --workers=2`` on the bench) behind nginx with TLS 1.3 on a non-loopback address of a test
  network namespace (``TlsFront``), the certificate signed by a test CA;
* the till on this host's loopback: the KKT emulator on a pseudo-terminal, the KKT adapter on
  127.0.0.1:8765 (the POS config's default) delivering to that https origin, the OFD stand-in;
* a real Chromium with the till_kiosk role's managed policy (rendered from the role) plus the test CA;
* "Odoo unreachable" is ``NetLab.set_loss(100)``: nftables in the namespace drops every packet of the data
  link, so the browser's and the till's connections to Odoo time out at TCP level.

The first test loads the POS, drops the link, reloads, kills Chromium with SIGKILL and restarts it on the same
profile, checks the service worker runs the page with all products, sells 3 orders through the till, restores
the link and checks Odoo gets 3 orders with unique names and 3 linked fiscal documents, then sells online.
The second checks a page of another site is refused the till on loopback while the POS origin reaches it.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.kit import pos_lab
from tests.kit.browser import Browser
from tests.kit.devstack import AdapterProcess, EmulatorProcess
from tests.kit.fleet import FAST_TIMERS
from tests.kit.netlab import NetLab, unavailable_reason
from tests.kit.odoo_server import Bench, OdooServer
from tests.kit.standins.common import StandinProcess
from tests.kit.tls_front import TestCA, TlsFront

#: The owner's plan: a local catalog of at least 1,000 products.
PRODUCTS = 1000
#: The POS config's default adapter URL is http://127.0.0.1:8765.
ADAPTER_PORT = 8765
#: Seconds for the POS's 30 s sync loop and the till's delivery to bring everything to Odoo once it is back.
SYNC_TIMEOUT = 150.0
#: Seconds for a POS start served from the service worker's copy (the page's network try gives up at 5 s).
OFFLINE_START_TIMEOUT = 120.0
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots" / "pos-offline"


@dataclass
class Store:
    lab: NetLab
    server: OdooServer
    front: TlsFront
    ca: TestCA
    fx: pos_lab.PosFixture
    adapter: AdapterProcess
    work: Path
    database: str

    @property
    def pos_url(self) -> str:
        return self.fx.url(self.front.origin)

    def browser(self, profile: Path, kiosk: bool = True) -> Browser:
        """Chromium as the till's kiosk runs it: the role's policy (or, ``kiosk=False``, only the test CA)
        and the lab's addresses in the *public* address space, as a store's central Odoo on the internet
        is. (Chromium 156 lets a page on a private address reach loopback without asking, so on the lab's
        10.213/16 nothing would be checked; ``--ip-address-space-overrides`` is Chromium's own switch for
        such tests.)"""
        ca = [self.ca.der_base64()]
        policy = (
            pos_lab.kiosk_policy(
                self.front.origin, extra_allowed=[self.front.other_origin], ca_certificates=ca
            )
            if kiosk
            else {"CACertificates": ca}
        )
        public = ",".join(f"{ip}:443=public" for ip in (self.lab.ns_ip, self.lab.mgmt_ns_ip))
        return Browser(profile=profile, policy=policy, args=(f"--ip-address-space-overrides={public}",))

    def orders(self) -> list[dict]:
        return self.server.call(
            "pos.order",
            "search_read",
            [("session_id", "=", self.fx.session_id)],
            fields=["pos_reference", "access_token", "fiscal_document_ids"],
        )

    def arrived(self, count: int) -> bool:
        """``count`` orders and ``count`` fiscal documents are in Odoo; then the documents are joined to
        their orders as the scheduler's ``cron_link_orders`` does within 5 minutes (an order and its
        document arriving in the same instant in two transactions see neither the other; this bench's
        servers run no cron threads)."""
        orders, documents = self.orders(), self.documents()
        if len(orders) < count or len(documents) < count:
            self.last_seen = f"{len(orders)} orders, {len(documents)} documents"
            return False
        cron = self.server.call(
            "ir.model.data", "check_object_reference", "optics_pos_ru54fz", "cron_link_orders"
        )[1]
        self.server.call("ir.cron", "method_direct_trigger", [cron])
        return True

    def documents(self) -> list[dict]:
        return self.server.call(
            "optics.fiscal.document",
            "search_read",
            [("pos_id", "=", self.fx.pos_id)],
            fields=["receipt_id", "fd", "pos_order_id"],
        )


@pytest.fixture(scope="module")
def store(bench: Bench, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    reason = unavailable_reason()
    if reason:
        pytest.fail(reason)
    work = tmp_path_factory.mktemp("pos-offline")
    run = uuid.uuid4().hex[:6]
    lab = NetLab(work / "lab").open()
    stack: list = []
    try:
        server = OdooServer(bench, "pos-offline", http_interface=lab.mgmt_host_ip).start()
        stack.append(server)
        fx = pos_lab.provision_pos(server, run, PRODUCTS)
        ca = TestCA(work / "ca")
        site = work / "site"
        site.mkdir()
        (site / "index.html").write_text("<!doctype html><title>another site</title><p>another site</p>")
        front = TlsFront(lab, ca, f"{lab.mgmt_host_ip}:{server.port}", work / "front", site).start()
        stack.append(front)
        ofd = StandinProcess.start("ofd", state_dir=work / "ofd")
        stack.append(ofd)
        emulator = EmulatorProcess(work / "kkt").start()
        stack.append(emulator)
        adapter = AdapterProcess(
            work / "adapter",
            emulator.port,
            pos_id=fx.pos_id,
            ofd_url=ofd.url,
            odoo_url=front.origin,
            odoo_token=fx.till_token,
            http_port=ADAPTER_PORT,
            extra_env={
                **FAST_TIMERS,
                "KKT_ADAPTER_HTTP__CORS_ORIGINS": json.dumps([front.origin]),
                # The till trusts the chain's CA for its Odoo (requests reads the bundle from here).
                "REQUESTS_CA_BUNDLE": str(ca.pem),
            },
        ).start()
        stack.append(adapter)
        yield Store(lab, server, front, ca, fx, adapter, work, bench.database)
    finally:
        for part in reversed(stack):
            part.stop()
        lab.close()


def _wait(
    what: str, check, timeout: float, browser: Browser | None = None, store: Store | None = None
) -> float:
    """Poll ``check()`` until truthy; the seconds it took (AssertionError naming ``what`` on timeout)."""
    started = time.monotonic()
    last = None
    while time.monotonic() - started < timeout:
        last = check()
        if last:
            return time.monotonic() - started
        time.sleep(2)
    seen = getattr(store, "last_seen", "") if store else ""
    if browser is not None:
        seen += "; in the POS: " + str(
            browser.evaluate(
                "JSON.stringify({unsynced: posmodel.db.get_orders().map(o => o.data.name),"
                " offline: posmodel.opticsOffline})"
            )
        )
    raise AssertionError(f"{what}: not within {timeout} s (last: {last}; {seen})")


def _cookie_on_disk(profile: Path, host: str) -> bool:
    cookies = profile / "Default" / "Cookies"
    if not cookies.exists():
        return False
    with contextlib.closing(sqlite3.connect(f"file:{cookies}?mode=ro", uri=True, timeout=5)) as db:
        query = "SELECT count(*) FROM cookies WHERE name = 'session_id' AND host_key = ?"
        return db.execute(query, (host,)).fetchone()[0] > 0


def _assert_started_from_copy(browser: Browser, label: str) -> int:
    """The page runs under the service worker, from the copy, with every product; returns the count."""
    pos_lab.wait_product_screen(browser, OFFLINE_START_TIMEOUT)
    assert browser.evaluate("!!navigator.serviceWorker.controller"), f"{label}: no service worker"
    state = browser.evaluate("JSON.parse(JSON.stringify(posmodel.opticsOffline))")
    assert state["running"] and state["worker"], f"{label}: not started from the copy: {state}"
    products = browser.evaluate("Object.keys(posmodel.db.product_by_id).length")
    assert products >= PRODUCTS, f"{label}: {products} products"
    # The last product of the catalogue (past the grid's first 100) is found by the cashier's search.
    last = browser.evaluate(f"posmodel.db.search_product_in_category(0, '{PRODUCTS - 1:04d}').length")
    assert last >= 1, f"{label}: the last product is not searchable"
    browser.screenshot(SCREENSHOTS / f"{label}.png")
    return products


def test_pos_reopens_and_sells_with_odoo_unreachable(store: Store) -> None:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    profile = store.work / "profile"
    profile.mkdir()
    browser = store.browser(profile).start()
    try:
        browser.login_odoo(store.front.origin, store.database, "admin", "admin", verify=str(store.ca.pem))
        started = time.monotonic()
        pos_lab.open_pos(browser, store.pos_url)
        online_load = time.monotonic() - started
        # The first visit registers the worker and copies the start-up data.
        browser.wait_for("posmodel.opticsOffline.copyAt", 120)
        browser.screenshot(SCREENSHOTS / "online.png")

        store.lab.set_loss(100)
        started = time.monotonic()
        pos_lab.reload(browser)
        products = _assert_started_from_copy(browser, "offline-reload")
        offline_reload = time.monotonic() - started

        # Chromium writes its cookies to the profile every 30 s: a till's browser that has run for a while
        # has Odoo's session cookie on disk, which the restart after SIGKILL needs.
        _wait("Odoo's session cookie on disk", lambda: _cookie_on_disk(profile, store.lab.ns_ip), 60)
        browser.kill9()
        started = time.monotonic()
        browser.start()
        browser.navigate(store.pos_url)
        _assert_started_from_copy(browser, "offline-restart")
        offline_restart = time.monotonic() - started

        names = [pos_lab.sell_once(browser) for _ in range(3)]
        browser.screenshot(SCREENSHOTS / "offline-sold.png")
        assert len(set(names)) == 3, names
        dropped = store.lab.dropped_packets()
        assert dropped > 0, "the namespace's nftables rules dropped nothing: Odoo was never unreachable"
        assert store.orders() == [], "an order reached Odoo through a dropped link"

        store.lab.set_loss(0)
        started = time.monotonic()

        _wait(
            "3 orders and 3 fiscal documents in Odoo", lambda: store.arrived(3), SYNC_TIMEOUT, browser, store
        )
        resync = time.monotonic() - started
        orders = store.orders()
        # The order names the cashier saw (pos_reference) are the ones Odoo keeps.
        assert sorted(o["pos_reference"] for o in orders) == sorted(names)
        assert len({o["access_token"] for o in orders}) == 3
        documents = store.documents()
        assert len(documents) == 3 and all(d["pos_order_id"] for d in documents), documents
        assert len({d["receipt_id"] for d in documents}) == 3
        assert sorted(d["pos_order_id"][0] for d in documents) == sorted(o["id"] for o in orders)

        # Back online: the page starts from Odoo again and its next order name is new.
        pos_lab.open_pos(browser, store.pos_url)
        browser.wait_for("posmodel.opticsOffline.running === false", 30)
        names.append(pos_lab.sell_once(browser))

        _wait(
            "the online order and its fiscal document", lambda: store.arrived(4), SYNC_TIMEOUT, browser, store
        )
        orders = store.orders()
        assert len(orders) == 4, [o["pos_reference"] for o in orders]
        assert sorted(o["pos_reference"] for o in orders) == sorted(names)
        assert len(set(names)) == 4, names
        assert len({o["access_token"] for o in orders}) == 4
        documents = store.documents()
        assert len(documents) == 4 and all(d["pos_order_id"] for d in documents), documents
        assert len({d["pos_order_id"][0] for d in documents}) == 4, documents
        print(
            f"\noffline reopen: {products} products; online load {online_load:.1f} s, offline reload "
            f"{offline_reload:.1f} s, offline restart after kill -9 {offline_restart:.1f} s; "
            f"{dropped} packets dropped; 3 offline orders and documents in Odoo {resync:.1f} s after the "
            f"link returned; names {names}"
        )
    finally:
        browser.stop()
        store.lab.set_loss(0)  # the next test needs the link, whatever happened here


PROBE = """(async () => {
  try {
    const r = await fetch("http://127.0.0.1:%d/v1/health", { mode: "%s", cache: "no-store" });
    return "reached " + r.type + " " + r.status;
  } catch (e) {
    return "refused " + e;
  }
})()"""


def _probe(browser: Browser, page: str, mode: str) -> str:
    """Open ``page`` and fetch the till's health from it (``mode`` "cors" reads the answer)."""
    browser.navigate(page)
    browser.wait_for("document.readyState === 'complete' && location.protocol === 'https:'", 60)
    return browser.evaluate(PROBE % (ADAPTER_PORT, mode), await_promise=True)


def test_local_network_access_for_the_pos_origin_only(store: Store) -> None:
    store.lab.set_loss(0)
    login = f"{store.front.origin}/web/login"
    other = f"{store.front.other_origin}/index.html"
    with store.browser(store.work / "profile-lna") as browser:
        # The store's Odoo origin reaches the till on loopback (the adapter's CORS lets it read the answer);
        # the first test sold through it with this policy.
        own = _probe(browser, login, "cors")
        assert own == "reached cors 200", own
        # A page of another site (allowed to load, for this test, by the kiosk's URL list) is refused the
        # till, even a request that would not read the answer ("no-cors"): it never leaves the browser.
        foreign = _probe(browser, other, "no-cors")
        assert browser.evaluate("document.title") == "another site"
        browser.screenshot(SCREENSHOTS / "lna-other-origin.png")
        assert foreign.startswith("refused"), foreign
    # Without the kiosk's policy the store's own origin is refused too: the grant is the policy's.
    with store.browser(store.work / "profile-no-policy", kiosk=False) as browser:
        bare = _probe(browser, login, "no-cors")
        assert bare.startswith("refused"), bare
    print(f"\nlocal network access: POS origin {own!r}; another site {foreign!r}; no policy {bare!r}")
