"""Benchmark: the cashier's wait, payment validated → receipt screen, in the real POS (issue 12).

Real Odoo (``odoo-bin --workers=2`` on the bench's database), real Chromium (CDP), a real till: the KKT
emulator at real KKT speed and the adapter, started from the test kit. Real KKT speed: the 115200-baud line,
``SIGN_SECONDS`` for the FN to record a document before the device answers, then ``PRINT_SECONDS`` of
printing after the answer, during which the next document's commands are refused (0x50) and sent again by
the adapter once the printer is done — as a Shtrih-M behaves. The measured sales come at a cashier's pace:
each is validated no sooner than ``CASHIER_PACE_SECONDS`` after the previous receipt screen (the target
holds for that). A second series validates back to back, as soon as the receipt screen shows: each sale
then waits for the previous receipt's printing, so its figure is bound by the KKT's own time per receipt
(signing + printing) and printed for information. Each sale is rung up and paid by clicks in the page; the
wait is timed in the page from the click on «Validate» until the receipt screen is drawn, and the adapter's
share is the duration of the page's own
``POST /v1/kkt/receipt`` (fetch wrapped in the page). The anchor, measured in the same run on the same
POS, is Odoo's own wait with fiscalization off (the order only goes to Odoo). Figures: P50/P95 over
``POS_BENCH_SALES`` sales (default 100). Target: P95 <= 1 s, printed as met or not; the run fails past the
owner's plan's 7 s.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

import pytest

from tests.kit.browser import Browser
from tests.kit.devstack import AdapterProcess, EmulatorProcess
from tests.kit.odoo_server import ADMIN, Bench, OdooServer

SALES = int(os.environ.get("POS_BENCH_SALES", "100"))
ANCHOR_SALES = max(10, SALES // 5)
BACK_TO_BACK_SALES = max(10, SALES // 5)
WARMUP = 3
#: Issue 12's target for P95; printed as met or not. The run fails only past the owner's plan's limit.
TARGET_P95_S = 1.0
PLAN_LIMIT_P95_S = 7.0
#: Assumed time for the FN to record and sign a document: the emulator sleeps this long on a printing
#: command (FF45 closing the receipt) before it answers, on top of the 115200-baud line time. Set a figure
#: measured on the stores' KKT model through the environment.
SIGN_SECONDS = float(os.environ.get("POS_BENCH_SIGN_SECONDS", "0.3"))
#: Assumed print time of one receipt on a thermal KKT (a ~10 cm receipt at ~150 mm/s plus the cut), after
#: the answer: the next receipt's first command is refused (0x50) until it is done.
PRINT_SECONDS = float(os.environ.get("POS_BENCH_PRINT_SECONDS", "0.7"))
#: Least time a cashier needs from one receipt screen to the next validation: hand over the receipt, ring
#: up the next sale, take the payment (a card terminal's authorization alone takes longer). Deliberately
#: short: the printer may still be busy when a sale is validated sooner than signing + printing allow.
CASHIER_PACE_SECONDS = float(os.environ.get("POS_BENCH_CASHIER_PACE_SECONDS", "1.0"))
POS_ID = "bench-pos-till"
POS_NAME = "Bench POS"
PRODUCT = "Bench frame"

# Wraps fetch once: the duration of every receipt request the POS sends to the adapter.
HOOK_FETCH = """
(() => {
  if (window.__kktTimes) { return true; }
  window.__kktTimes = [];
  const original = window.fetch;
  window.fetch = async function (input, init) {
    const url = typeof input === "string" ? input : input.url;
    const t0 = performance.now();
    try { return await original.apply(this, arguments); }
    finally { if (url.includes("/v1/kkt/receipt")) { window.__kktTimes.push(performance.now() - t0); } }
  };
  return true;
})()
"""

# One sale by clicks, validated no sooner than %(pace)s ms after the previous receipt screen; resolves to
# [wait ms, adapter ms or null].
SALE = """
(async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const until = async (selector) => {
    for (;;) { const el = document.querySelector(selector); if (el) { return el; } await sleep(5); }
  };
  const byText = async (selector, text) => {
    for (;;) {
      const el = [...document.querySelectorAll(selector)].find((e) => e.textContent.includes(text));
      if (el) { return el; }
      await sleep(5);
    }
  };
  (await byText(".product-list article.product", "%(product)s")).click();
  (await until(".pay-order-button")).click();
  (await until(".paymentmethods .button.paymentmethod")).click();
  const validate = await until(".payment-screen .button.next.highlight");
  const ready = (window.__lastReceiptAt || 0) + %(pace)s;
  while (performance.now() < ready) { await sleep(5); }
  const before = window.__kktTimes.length;
  const t0 = performance.now();
  validate.click();
  await until(".receipt-screen");
  await new Promise((r) => requestAnimationFrame(() => r()));
  window.__lastReceiptAt = performance.now();
  const wait = window.__lastReceiptAt - t0;
  const adapter = window.__kktTimes.length > before ? window.__kktTimes[window.__kktTimes.length - 1] : null;
  (await until(".receipt-screen .button.next.highlight")).click();
  await until(".product-list");
  return [wait, adapter];
})()
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _setup_pos(server: OdooServer, adapter_url: str) -> int:
    """A POS of its own (other scenarios keep a session open on the first one), paid by card, showing only
    the benchmark's product; its till is ``POS_ID``. The bench's database outlives a run: find first."""

    def find_or_create(model: str, name: str, values: dict) -> int:
        found = server.call(model, "search", [("name", "=", name)])
        return found[0] if found else server.call(model, "create", {"name": name, **values})

    [first] = server.call(
        "pos.config", "search_read", [("name", "!=", POS_NAME)], fields=["payment_method_ids"]
    )[:1]
    card = server.call(
        "pos.payment.method",
        "search",
        [("id", "in", first["payment_method_ids"]), ("is_cash_count", "=", False)],
    )
    tax = find_or_create("account.tax", "Bench VAT exempt", {"amount": 0, "optics_ffd_vat_code": "6"})
    # Only this category in the POS: the cashier sees the product whatever else the database holds (the
    # POS lists at most 100 products per category).
    category = find_or_create("pos.category", "Bench category", {})
    product = {"available_in_pos": True, "list_price": 85.0, "taxes_id": [(6, 0, [tax])]}
    frame = find_or_create("product.product", PRODUCT, product)
    server.call("product.product", "write", [frame], {"pos_categ_ids": [(6, 0, [category])]})
    config = find_or_create(
        "pos.config",
        POS_NAME,
        {
            "payment_method_ids": [(6, 0, card[:1])],
            "limit_categories": True,
            "iface_available_categ_ids": [(6, 0, [category])],
            "iface_print_auto": False,
        },
    )
    if not server.call("pos.offline.buffer.status", "search", [("pos_id", "=", POS_ID)]):
        server.add_till(POS_ID)
    till = server.call("pos.offline.buffer.status", "search", [("pos_id", "=", POS_ID)])
    server.call("pos.offline.buffer.status", "write", till, {"pos_config_id": config})
    server.call("pos.config", "write", [config], {"optics_adapter_url": adapter_url})
    return config


def _sales(browser: Browser, count: int, pace: float = 0.0) -> tuple[list[float], list[float]]:
    waits, adapter = [], []
    script = SALE % {"product": PRODUCT, "pace": round(pace * 1000)}
    for _ in range(count):
        wait_ms, adapter_ms = browser.evaluate(script, await_promise=True)
        waits.append(wait_ms / 1000)
        if adapter_ms is not None:
            adapter.append(adapter_ms / 1000)
    return waits, adapter


def _open_pos(browser: Browser, server: OdooServer, config_id: int) -> None:
    browser.navigate(f"{server.url}/pos/ui?config_id={config_id}")
    browser.wait_for("document.querySelector('.product-list article.product')", timeout=180)
    # A POS with a cash method asks for the opening cash once per session.
    opening = (
        "[...document.querySelectorAll('.opening-cash-control .button')]"
        ".find((b) => b.textContent.includes('Open session'))"
    )
    if browser.evaluate(f"!!{opening}"):
        browser.evaluate(f"{opening}.click()")
        browser.wait_for("!document.querySelector('.opening-cash-control')", timeout=60)
    browser.evaluate(HOOK_FETCH)


def _counting_refusals(emulator: EmulatorProcess, sales, count: int):
    """Run ``sales()``; also count the sales that found the printer busy: each refusal (0x50) of a
    receipt's opening command (8D) is one more 8D than sales."""
    opened = emulator.control.stats()["commands"].get("8D", 0)
    waits, adapter_waits = sales()
    return waits, adapter_waits, emulator.control.stats()["commands"].get("8D", 0) - opened - count


@pytest.mark.slow
def test_cashier_wait_from_validation_to_receipt(bench: Bench) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pos-bench-"))
    with OdooServer(bench, "pos-wait", workers=2) as server:
        emulator = EmulatorProcess(
            workdir / "kkt", baud=115200, sign_delay=SIGN_SECONDS, print_delay=PRINT_SECONDS
        )
        emulator.state_dir.mkdir(parents=True, exist_ok=True)
        emulator.start()
        adapter = AdapterProcess(
            workdir / "adapter",
            emulator.port,
            pos_id=POS_ID,
            extra_env={"KKT_ADAPTER_HTTP__CORS_ORIGINS": f'["{server.url}"]'},
        )
        try:
            adapter.start()
            config_id = _setup_pos(server, adapter.url)
            server.call("pos.config", "open_ui", [config_id])
            with Browser() as browser:
                browser.login_odoo(server.url, bench.database, *ADMIN)
                # The anchor: the same POS, fiscalization off (Odoo's own wait).
                server.call("pos.config", "write", [config_id], {"optics_fiscal": False})
                _open_pos(browser, server, config_id)
                _sales(browser, WARMUP)
                anchor, _ = _sales(browser, ANCHOR_SALES)
                server.call("pos.config", "write", [config_id], {"optics_fiscal": True})
                _open_pos(browser, server, config_id)
                before = len([d for d in emulator.control.request("journal") if "items" in d])
                _sales(browser, WARMUP)
                waits, adapter_waits, busy = _counting_refusals(
                    emulator, lambda: _sales(browser, SALES, CASHIER_PACE_SECONDS), SALES
                )
                rushed, _, rushed_busy = _counting_refusals(
                    emulator, lambda: _sales(browser, BACK_TO_BACK_SALES), BACK_TO_BACK_SALES
                )
                signed = len([d for d in emulator.control.request("journal") if "items" in d]) - before
        finally:
            adapter.stop()
            emulator.stop()
    total = WARMUP + SALES + BACK_TO_BACK_SALES
    assert signed == total, f"{signed} receipts signed for {total} sales"
    assert len(adapter_waits) == SALES, "every measured sale went through the adapter"
    p50, p95 = statistics.median(waits), percentile(waits, 95)
    a50, a95 = statistics.median(adapter_waits), percentile(adapter_waits, 95)
    o50, o95 = statistics.median(anchor), percentile(anchor, 95)
    r50, r95 = statistics.median(rushed), percentile(rushed, 95)
    share = statistics.median([a / w for a, w in zip(adapter_waits, waits, strict=True)])
    print(
        f"\nPOS wait (validated → receipt screen); emulator 115200 baud, {SIGN_SECONDS} s to sign, then"
        f" {PRINT_SECONDS} s printing"
        f"\n  with the till, {SALES} sales at a cashier's pace (>= {CASHIER_PACE_SECONDS} s from a receipt"
        f" screen to the next validation): P50 {p50:.3f} s, P95 {p95:.3f} s (target P95 <= {TARGET_P95_S} s:"
        f" {'met' if p95 <= TARGET_P95_S else 'NOT met'}; the plan's limit {PLAN_LIMIT_P95_S} s);"
        f" sales that found the printer busy: {busy}"
        f"\n  adapter request: P50 {a50:.3f} s, P95 {a95:.3f} s; median share of the wait {share:.0%}"
        f"\n  back to back ({BACK_TO_BACK_SALES} sales, bound by the KKT's {SIGN_SECONDS + PRINT_SECONDS} s"
        f" per receipt): P50 {r50:.3f} s, P95 {r95:.3f} s; sales that found the printer busy: {rushed_busy}"
        f"\n  anchor, fiscalization off ({ANCHOR_SALES} sales): P50 {o50:.3f} s, P95 {o95:.3f} s;"
        f" ratio P50 {p50 / o50:.1f}x"
    )
    assert max(p95, r95) <= PLAN_LIMIT_P95_S, f"P95 above the plan's limit {PLAN_LIMIT_P95_S} s"
