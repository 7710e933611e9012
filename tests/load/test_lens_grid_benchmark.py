"""A lens design's full stock grid into real Odoo, and its stock matrix opened in a real browser.

On ``odoo-bin --workers=2`` (the bench's database): ``optics.lens.generate_stock_grid`` creates Sph −8…+6 x
Cyl 0…−4 (969 variants) in batches; the anchor, measured in the same run, is Odoo's own one-write variant
creation (a template with both attribute lines at once — possible only below its 1000-variant limit). Stock is
then put on a third of the grid in the administrator's store, and the matrix is opened: the RPC alone
(median of 20) and in Chromium from the lens form's button until the 969 cells are drawn (median of 5).
Target: the matrix opens in <= 2 s. The screens of docs/optics-core.md are taken here too
(``build/screenshots/optics_core``; ``OPTICS_DOC_SCREENSHOTS=1`` also writes them to docs/images).
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
import xmlrpc.client
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.kit.browser import Browser
from tests.kit.odoo_server import ADMIN, Bench, OdooServer

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots" / "optics_core"
DOC_IMAGES = ROOT / "docs" / "images" / "optics-core"
GRID = (-8.0, 6.0, -4.0, 0.0)
CELLS = 57 * 17
#: A wide design (Sph −10…+8 x Cyl 0…−6 = 1825) past Odoo's 1000-variants-per-write limit.
WIDE_GRID = (-10.0, 8.0, -6.0, 0.0)
WIDE_CELLS = 73 * 25
MATRIX_TARGET_S = 2.0
RPC_OPENS = 20
BROWSER_OPENS = 5

OPEN_FROM_FORM = """
new Promise((resolve) => {
  const t0 = performance.now();
  document.querySelector("button[name='action_open_stock_matrix']").click();
  const tick = () => {
    const table = document.querySelector(".o_optics_matrix_table[data-ready='yes']");
    if (table && table.querySelectorAll("tbody td").length === %d) {
      requestAnimationFrame(() => resolve(performance.now() - t0));
    } else {
      requestAnimationFrame(tick);
    }
  };
  tick();
})
"""


@pytest.fixture(scope="module")
def server(bench: Bench):
    with OdooServer(bench, "lens-grid", workers=2) as odoo:
        yield odoo


def _setup(server: OdooServer) -> dict:
    """Russian UI for the administrator, a store, the store-manager group, a VAT-exempt tax."""
    ru = server.call("res.lang", "search", [("code", "=", "ru_RU"), ("active", "in", [True, False])])
    wizard = server.call("base.language.install", "create", {"lang_ids": [(6, 0, ru)], "overwrite": False})
    server.call("base.language.install", "lang_install", [wizard])
    [store] = server.call("stock.warehouse", "search_read", [], fields=["id", "lot_stock_id"], limit=1)
    admin = server.call("res.users", "search", [("login", "=", ADMIN[0])])[0]
    manager = server.call("ir.model.data", "check_object_reference", "optics_core", "group_store_manager")[1]
    server.call(
        "res.users", "write", [admin],
        {"lang": "ru_RU", "optics_store_ids": [(6, 0, [store["id"]])], "groups_id": [(4, manager)]},
    )  # fmt: skip
    tax = server.call("account.tax", "search", [("name", "=", "Без НДС (линзы)")]) or server.call(
        "account.tax", "create",
        {"name": "Без НДС (линзы)", "amount": 0, "type_tax_use": "sale", "optics_ffd_vat_code": "6"},
    )  # fmt: skip
    tax = tax[0] if isinstance(tax, list) else tax
    return {"store": store["id"], "location": store["lot_stock_id"][0], "tax": tax, "admin": admin}


def _odoo_one_write(server: OdooServer, ctx: dict, sph_values: list[int], cyl_values: list[int]) -> float:
    """The anchor: one template created with both attribute lines — Odoo builds every variant at once."""
    attrs = {
        role: server.call("product.attribute", "search", [("optics_role", "=", role)])[0]
        for role in ("sph", "cyl")
    }
    started = time.perf_counter()
    server.call(
        "product.template", "create",
        {
            "name": "Anchor: one-write grid", "detailed_type": "product", "taxes_id": [(6, 0, [ctx["tax"]])],
            "attribute_line_ids": [
                (0, 0, {"attribute_id": attrs["cyl"], "value_ids": [(6, 0, cyl_values)]}),
                (0, 0, {"attribute_id": attrs["sph"], "value_ids": [(6, 0, sph_values)]}),
            ],
        },
    )  # fmt: skip
    return time.perf_counter() - started


def _shot(browser: Browser, name: str) -> None:
    path = browser.screenshot(SHOTS / f"{name}.png")
    if os.environ.get("OPTICS_DOC_SCREENSHOTS") == "1":
        DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOC_IMAGES / path.name)


def test_a_full_grid_is_created_and_its_matrix_opens_within_two_seconds(server: OdooServer) -> None:
    ctx = _setup(server)
    lens = server.call(
        "optics.lens", "create",
        {"name": "Линза 1.56 HMC (склад)", "index": "1.56", "lens_type": "single_vision", "code": "SV156HMC"},
    )  # fmt: skip
    started = time.perf_counter()
    result = server.call("optics.lens", "generate_stock_grid", [lens], *GRID, taxes=[ctx["tax"]])
    ours = time.perf_counter() - started
    assert result == {"created": CELLS, "total": CELLS}
    [info] = server.call("optics.lens", "read", [lens], ["product_tmpl_id"])
    template = info["product_tmpl_id"][0]
    variants = server.call(
        "product.product", "search_read", [("product_tmpl_id", "=", template)],
        fields=["id", "optics_sph", "optics_cyl"],
    )  # fmt: skip
    assert len({(v["optics_sph"], v["optics_cyl"]) for v in variants}) == CELLS
    values = server.call(
        "product.template.attribute.value", "search_read", [("product_tmpl_id", "=", template)],
        fields=["product_attribute_value_id", "attribute_id"],
    )  # fmt: skip
    by_attr: dict[str, list[int]] = {}
    for value in values:
        by_attr.setdefault(value["attribute_id"][1], []).append(value["product_attribute_value_id"][0])
    anchor = _odoo_one_write(server, ctx, by_attr["Sph"], by_attr["Cyl"])

    # Past the limit Odoo's one write refuses; the batches build it.
    wide = server.call("optics.lens", "create", {"name": "Линза 1.6 (широкая сетка)", "index": "1.60"})
    started = time.perf_counter()
    wide_result = server.call("optics.lens", "generate_stock_grid", [wide], *WIDE_GRID, taxes=[ctx["tax"]])
    ours_wide = time.perf_counter() - started
    assert wide_result == {"created": WIDE_CELLS, "total": WIDE_CELLS}
    with pytest.raises(xmlrpc.client.Fault, match=r"limit|предел"):  # English or Russian UI
        wide_values = server.call(
            "product.attribute.value", "search", [("attribute_id.optics_role", "in", ["sph", "cyl"])]
        )
        values = server.call("product.attribute.value", "read", wide_values, ["attribute_id"])
        _odoo_one_write(
            server, ctx,
            [v["id"] for v in values if v["attribute_id"][1] == "Sph"],
            [v["id"] for v in values if v["attribute_id"][1] == "Cyl"],
        )  # fmt: skip

    # Stock on every third variant of the store (inventory adjustment, as a stocktake would).
    stocked = variants[::3]
    quants = server.call(
        "stock.quant", "create",
        [{"product_id": v["id"], "location_id": ctx["location"], "inventory_quantity": 1 + i % 4}
         for i, v in enumerate(stocked)],
        context={"inventory_mode": True},
    )  # fmt: skip
    server.call_json("stock.quant", "action_apply_inventory", quants)
    pieces = sum(1 + i % 4 for i in range(len(stocked)))

    rpc = []
    for _ in range(RPC_OPENS):
        started = time.perf_counter()
        matrix = server.call("optics.lens", "get_stock_matrix", [lens], store_id=ctx["store"])
        rpc.append(time.perf_counter() - started)
    assert (matrix["variants"], matrix["in_stock"], matrix["total"]) == (CELLS, len(stocked), pieces)

    with Browser() as browser:
        browser.login_odoo(server.url, server.bench.database, *ADMIN)
        opens = []
        for _ in range(BROWSER_OPENS):
            browser.navigate(f"{server.url}/web#id={lens}&model=optics.lens&view_type=form")
            browser.wait_for("document.querySelector(\"button[name='action_open_stock_matrix']\")")
            opens.append(browser.evaluate(OPEN_FROM_FORM % CELLS, await_promise=True) / 1000)
        cells = browser.evaluate(
            "document.querySelectorAll('.o_optics_matrix_table td.o_optics_cell_stock').length"
        )
        assert cells == len(stocked)
        _shot(browser, "lens-matrix")
        _screens(server, browser, lens)

    rpc_median, open_median = statistics.median(rpc), statistics.median(opens)
    print(
        f"\nlens grid: {CELLS} variants (Sph -8..+6 x Cyl 0..-4) generate_stock_grid {ours:.1f} s "
        f"({CELLS / ours:.0f} variants/s) vs Odoo one-write anchor {anchor:.1f} s "
        f"({CELLS / anchor:.0f} variants/s), ratio anchor/ours {anchor / ours:.2f}\n"
        f"wide grid: {WIDE_CELLS} variants (Sph -10..+8 x Cyl 0..-6) generate_stock_grid {ours_wide:.1f} s "
        f"({WIDE_CELLS / ours_wide:.0f} variants/s); Odoo's one write refuses it (1000-variant limit)\n"
        f"lens matrix: RPC median {rpc_median * 1000:.0f} ms (max {max(rpc) * 1000:.0f} ms, n={RPC_OPENS}); "
        f"browser open from the form median {open_median * 1000:.0f} ms (max {max(opens) * 1000:.0f} ms, "
        f"n={BROWSER_OPENS}); target <= {MATRIX_TARGET_S:.0f} s; "
        f"stocked cells {len(stocked)}, pieces {pieces}"
    )
    assert open_median <= MATRIX_TARGET_S


def _screens(server: OdooServer, browser: Browser, lens: int) -> None:
    """The user guide's other screens: a patient's consent, a prescription, the access log, the lens form."""
    patient = server.call(
        "res.partner", "create",
        {"name": "Смирнова Анна Петровна", "phone": "+7 912 000-00-00",
         "optics_consent_date": (date.today() - timedelta(days=3)).isoformat(),
         "optics_consent_document": "С-0412"},
    )  # fmt: skip
    rx = server.call(
        "optics.prescription", "create",
        {"partner_id": patient, "prescriber": "Кузнецова Е. В., офтальмолог", "purpose": "distance",
         "od_sph": -2.25, "od_cyl": -0.75, "od_axis": 90, "os_sph": 0.5, "os_cyl": -0.5, "os_axis": 85,
         "pd": 63.0, "note": "Первичный подбор"},
    )  # fmt: skip
    browser.navigate(f"{server.url}/web#id={rx}&model=optics.prescription&view_type=form")
    browser.wait_for(
        "document.querySelector('.o_form_view .o_field_widget[name=od_display]')?.innerText.includes('90')"
    )
    # The widgets write values as opticians do: a sign on plus powers, nothing where nothing was prescribed.
    shown = browser.evaluate(
        "Object.fromEntries(['od_sph', 'os_sph', 'od_add', 'od_axis', 'od_pd', 'pd'].map(name => [name, "
        "(f => (f.querySelector('input')?.value ?? f.innerText).trim())"
        "(document.querySelector(`.o_field_widget[name=${name}]`))]))"
    )
    assert shown == {
        "od_sph": "-2,25",
        "os_sph": "+0,50",
        "od_add": "",
        "od_axis": "90",
        "od_pd": "",
        "pd": "63,0",
    }
    _shot(browser, "prescription-form")
    browser.navigate(f"{server.url}/web#id={patient}&model=res.partner&view_type=form")
    browser.wait_for("document.querySelector('.o_form_view .oe_stat_button')")
    tabs = "[...document.querySelectorAll('.o_notebook .nav-link')]"
    browser.evaluate(f"{tabs}.find(a => a.name === 'optics_consent')?.click()")
    browser.wait_for("document.querySelector('.o_field_widget[name=optics_consent_date]')")
    _shot(browser, "patient-consent")
    browser.navigate(f"{server.url}/web#action=optics_core.action_prescription_access")
    browser.wait_for("document.querySelectorAll('.o_list_view .o_data_row').length > 0")
    _shot(browser, "access-log")
    browser.navigate(f"{server.url}/web#id={lens}&model=optics.lens&view_type=form")
    browser.wait_for("document.querySelector(\"button[name='action_open_stock_matrix']\")")
    _shot(browser, "lens-form")
