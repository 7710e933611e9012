"""A fiscal POS on a real Odoo server for browser scenarios: provisioning over XML-RPC and tours over CDP.

``provision_pos(server, run, origin)`` creates, as the administrator: a VAT-exempt tax with its FFD code,
``products`` products available in the POS (one of them ``Offline Frame 0007``), a cash journal
and payment method ``Offline cash``, a POS config with fiscalization through its own till, that till with a
token, and an opened session. ``sell_once(browser)`` sells it through the POS screens (clicks in the page over
CDP) and waits for the till's fiscal receipt on screen. ``kiosk_policy(origin)`` is the managed Chromium
policy the till_kiosk role installs, rendered from the role's own variables for a test's origin. Test-only;
never shipped.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from jinja2.nativetypes import NativeEnvironment

from tests.kit.browser import Browser
from tests.kit.odoo_server import OdooServer

#: The product the scenarios sell and the store's cash payment method.
TOUR_PRODUCT = "Offline Frame 0007"
CASH_METHOD = "Offline cash"
PRODUCT_PRICE = 120.0
#: Records created per XML-RPC call (one call of thousands would hold a worker for long).
CREATE_BATCH = 500
#: The kiosk role's internal variables (its managed policy among them).
KIOSK_VARS = Path(__file__).resolve().parents[2] / "ansible" / "roles" / "till_kiosk" / "vars" / "main.yml"


@dataclass
class PosFixture:
    config_id: int
    session_id: int
    pos_id: str
    till_token: str
    product_ids: list[int]

    def url(self, origin: str) -> str:
        return f"{origin}/pos/ui?config_id={self.config_id}"


def provision_pos(
    server: OdooServer,
    run: str,
    products: int,
    config_id: int | None = None,
    adapter_url: str | None = None,
    pos_id: str | None = None,
) -> PosFixture:
    """``config_id``: set up that existing POS config (a till's kiosk URL names it) instead of a new one;
    ``adapter_url``: the till's adapter as the cashier's browser reaches it (the addon's default otherwise);
    ``pos_id``: the till's own id (a booted till's inventory names it; ``offline-<run>`` otherwise)."""
    call = server.call
    tax = call(
        "account.tax",
        "create",
        {"name": f"Offline VAT exempt {run}", "amount": 0, "price_include": True, "optics_ffd_vat_code": "6"},
    )
    names = [TOUR_PRODUCT if n == 7 else f"Offline item {run} {n:04d}" for n in range(products)]
    product_ids: list[int] = []
    for start in range(0, products, CREATE_BATCH):
        batch = [
            {
                "name": name,
                "available_in_pos": True,
                "list_price": PRODUCT_PRICE,
                "taxes_id": [(6, 0, [tax])],
                "type": "consu",
            }
            for name in names[start : start + CREATE_BATCH]
        ]
        product_ids += call("product.product", "create", batch)
    journal = call(
        "account.journal",
        "create",
        {"name": f"Offline cash {run}", "type": "cash", "code": f"OC{run[:3].upper()}"},
    )
    method = call(
        "pos.payment.method",
        "create",
        {"name": CASH_METHOD, "is_cash_count": True, "journal_id": journal},
    )
    # Every product loaded and the grid opened on all of them: an existing config (Odoo's demo "Shop")
    # may limit the POS to a few categories and open on one of them, hiding the products made here.
    values = {
        "name": f"Offline store {run}",
        "payment_method_ids": [(6, 0, [method])],
        "limit_categories": False,
        "start_category": False,
    }
    if adapter_url:
        values["optics_adapter_url"] = adapter_url
    if config_id is None:
        config = call("pos.config", "create", values)
    else:
        config = config_id
        call("pos.config", "write", [config], values)
    pos_id = pos_id or f"offline-{run}"
    token = server.add_till(pos_id)
    [till] = call("pos.offline.buffer.status", "search", [("pos_id", "=", pos_id)])
    call("pos.offline.buffer.status", "write", [till], {"pos_config_id": config})
    call("pos.config", "write", [config], {"optics_fiscal": True})
    call("pos.config", "open_ui", [config])
    [session] = call("pos.session", "search", [("config_id", "=", config), ("state", "!=", "closed")])
    call("pos.session", "action_pos_session_open", [session])
    return PosFixture(config, session, pos_id, token, product_ids)


def open_pos(browser: Browser, url: str, timeout: float = 120.0) -> None:
    """Load the POS page and wait for its product screen."""
    browser.navigate(url)
    wait_product_screen(browser, timeout)


def wait_product_screen(browser: Browser, timeout: float = 120.0) -> None:
    screen = "document.querySelector('.product-screen article.product')"
    browser.wait_for(f"window.posmodel && posmodel.opticsOffline && {screen}", timeout)


def reload(browser: Browser) -> None:
    """``location.reload()`` as F5 does (Page.navigate would wait on the POS's unload handling)."""
    browser.evaluate("setTimeout(() => location.reload(), 0), true")
    time.sleep(0.5)


def _click(browser: Browser, selector: str, text: str = "", timeout: float = 30.0) -> None:
    """Wait for an element (with ``text`` in it, when given) and click it as a cashier would."""
    find = (
        f"[...document.querySelectorAll({selector!r})].find((e) => e.textContent.includes({text!r}))"
        if text
        else f"document.querySelector({selector!r})"
    )
    browser.wait_for(find, timeout)
    browser.evaluate(f"({find}).click(), true")


def sell_once(browser: Browser, product: str = TOUR_PRODUCT, method: str = CASH_METHOD) -> str:
    """One sale on the product screen: the product, pay in full by ``method``, validate; waits until the
    till's receipt is on screen (the FD number) and starts the next order. Returns the order's name."""
    # Typed into the product search first, as a cashier does: the grid shows at most 100 products per
    # category, so in a large catalogue the product may not be on screen otherwise.
    search = ".product-screen .input-container input"
    browser.wait_for(f"document.querySelector({search!r})", 30)
    browser.evaluate(
        f"(() => {{ const input = document.querySelector({search!r}); input.value = {product!r};"
        " input.dispatchEvent(new Event('input', { bubbles: true })); return true; })()"
    )
    _click(browser, "article.product .product-name", product)
    _click(browser, ".product-screen .pay-order-button")
    _click(browser, ".paymentmethods .paymentmethod", method)
    browser.wait_for("document.querySelector('.payment-screen .button.next.highlight')", 30)
    name = browser.evaluate("posmodel.get_order().name")
    _click(browser, ".payment-screen .button.next.highlight")
    browser.wait_for(
        "document.querySelector('.receipt-screen .optics-fiscal .optics-fd')?.textContent.trim()", 60
    )
    _click(browser, ".receipt-screen .button.next")
    browser.wait_for("document.querySelector('.product-screen article.product')", 30)
    return name


def kiosk_policy(origin: str, extra_allowed: Sequence[str] = (), ca_certificates: Sequence[str] = ()) -> dict:
    """The till_kiosk role's Chromium policy for ``origin`` (as Ansible renders ``__till_kiosk_policy``),
    with DevTools allowed (the tests' CDP port, as the test inventory sets it) and ``ca_certificates``
    (base64 DER) trusted: a store whose Odoo has a certificate of the chain's own CA."""
    role_vars = yaml.safe_load(KIOSK_VARS.read_text(encoding="utf-8"))
    values = {
        "__till_kiosk_origin": origin,
        "till_kiosk_extra_allowed_urls": list(extra_allowed),
        "till_kiosk_remote_debugging_port": 9222,
        "till_kiosk_printing_enabled": False,
    }
    env = NativeEnvironment()

    def render(value: object) -> object:
        if isinstance(value, str):
            return env.from_string(value).render(values) if "{{" in value else value
        if isinstance(value, list):
            return [render(item) for item in value]
        return value

    policy = {name: render(value) for name, value in role_vars["__till_kiosk_policy"].items()}
    if ca_certificates:
        policy["CACertificates"] = list(ca_certificates)
    return policy
