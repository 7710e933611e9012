"""One page of the tour's Chromium, driven over the DevTools protocol (CDP) from the test.

Odoo's ``HttpCase`` drives a single page of its headless Chromium. A cashier who opens a second POS tab
gets another page of the same browser — same cookies, same localStorage — and so does a test here:
``ChromeTab.open`` creates a page in a window of its own (``Target.createTarget`` on the browser's DevTools
endpoint named by ``/json/version``), ``ChromeTab.attach`` joins an existing page (Chromium serves several
clients per page). Each page has its own WebSocket and is used from one thread, synchronously: evaluate
JavaScript, wait for a condition, start a tour and wait for its verdict in the console. Every wait is
bounded; a console error or an uncaught exception in the page fails the wait at once, as in Odoo's tours.
"""

import base64
import itertools
import json
import time

import requests
import websocket

from odoo.tests.common import HOST, save_test_file


class ChromeTabError(AssertionError):
    """The page failed: a console error, an uncaught exception, a tour step, or a wait that timed out."""


class ChromeTab:
    def __init__(self, port, target, listen=True):
        self.port = port
        self.target_id = target["id"]
        self.console = []  # "type: text" of every console call seen since ``listen``
        self.errors = []
        self._ids = itertools.count(1)
        self._ws = websocket.create_connection(target["webSocketDebuggerUrl"], suppress_origin=True)
        if listen:
            # Console calls and exceptions arrive as events; an attached page replays its earlier ones.
            self.call("Runtime.enable")

    @classmethod
    def open(cls, port, width, height):
        """A new blank page in its own window of the browser whose DevTools listen on ``port``.

        Its own window, not a tab beside the first page: Chromium stops animation frames in a hidden tab,
        and a tour waits for one before each step — two tours run side by side only in two windows.
        """
        version = requests.get(f"http://{HOST}:{port}/json/version", timeout=10).json()
        browser = websocket.create_connection(
            version["webSocketDebuggerUrl"], suppress_origin=True, timeout=10
        )
        try:
            params = {"url": "about:blank", "newWindow": True, "width": width, "height": height}
            browser.send(json.dumps({"id": 1, "method": "Target.createTarget", "params": params}))
            while True:
                answer = json.loads(browser.recv())
                if answer.get("id") == 1:
                    break
        finally:
            browser.close()
        if "error" in answer:
            raise ChromeTabError(f"Target.createTarget: {answer['error'].get('message')}")
        target_id = answer["result"]["targetId"]
        url = f"ws://{HOST}:{port}/devtools/page/{target_id}"
        return cls(port, {"id": target_id, "webSocketDebuggerUrl": url})

    @classmethod
    def attach(cls, port, url_part, timeout=30.0):
        """The open page whose URL contains ``url_part``; not listening (its owner judges its console)."""
        deadline = time.monotonic() + timeout
        while True:
            targets = requests.get(f"http://{HOST}:{port}/json/list", timeout=10).json()
            pages = [t for t in targets if t.get("type") == "page" and url_part in t.get("url", "")]
            if len(pages) == 1:
                return cls(port, pages[0], listen=False)
            if time.monotonic() > deadline:
                urls = [t.get("url") for t in targets]
                raise ChromeTabError(f"no single page with {url_part!r} among {urls}")
            time.sleep(0.1)

    # --- protocol --------------------------------------------------------------------------------

    def call(self, method, params=None, timeout=10.0):
        """Send one CDP command and return its result; events received meanwhile are recorded."""
        request_id = next(self._ids)
        self._ws.send(json.dumps({"id": request_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            message = self._receive(deadline)
            if message is None:
                raise ChromeTabError(f"{method}: no answer in {timeout} s")
            if message.get("id") == request_id:
                if "error" in message:
                    raise ChromeTabError(f"{method}: {message['error'].get('message')}")
                return message.get("result", {})

    def _receive(self, deadline):
        """The next message before ``deadline`` (None after it); events are recorded as they pass."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        self._ws.settimeout(remaining)
        try:
            message = json.loads(self._ws.recv())
        except websocket.WebSocketTimeoutException:
            return None
        method = message.get("method")
        params = message.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(_text(arg) for arg in params.get("args", []))
            self.console.append(f"{params.get('type')}: {text}")
            if params.get("type") == "error":
                self.errors.append(text)
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.errors.append(f"{details.get('text')} {_text(details.get('exception') or {})}")
        return message

    def _check(self):
        if self.errors:
            raise ChromeTabError(f"the page failed: {self.errors[0]}")

    # --- the page --------------------------------------------------------------------------------

    def navigate(self, url):
        """Load ``url``; returns once the new document is there (the old one is marked before leaving)."""
        self.evaluate("window.__opticsLeft = true")
        self.call("Page.navigate", {"url": url}, timeout=20.0)
        self.wait_for("!window.__opticsLeft && document.readyState !== 'loading'", 20.0, f"{url} loaded")

    def evaluate(self, expression, timeout=10.0):
        """The JSON value of ``expression`` (a promise is awaited); an exception in the page fails."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise ChromeTabError(f"{expression[:80]!r}: {_text(details.get('exception') or {})}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout, what):
        """Until ``expression`` is truthy in the page (an exception counts as not yet); returns its value."""
        guarded = f"(() => {{ try {{ return {expression}; }} catch (error) {{ return null; }} }})()"
        deadline = time.monotonic() + timeout
        while True:
            self._check()
            try:
                value = self.evaluate(guarded)
            except ChromeTabError:
                value = None  # the page is being replaced (navigation): its context is gone
            if value:
                return value
            if time.monotonic() > deadline:
                raise ChromeTabError(f"{what}: not within {timeout} s")
            time.sleep(0.1)

    def start_tour(self, name, timeout=60.0):
        """Start tour ``name`` once the page has it (as Odoo's ``start_tour`` does in its own page)."""
        self.wait_for(f"odoo.isTourReady('{name}')", timeout, f"tour {name} ready")
        self.console.clear()
        options = {"stepDelay": 0, "keepWatchBrowser": False, "startUrl": ""}
        self.evaluate(f"odoo.startTour({json.dumps(name)}, {json.dumps(options)}) || true")

    def wait_tour_end(self, name, timeout):
        """Until the running tour logs «test successful»; a console error fails, as in Odoo's runner."""
        deadline = time.monotonic() + timeout
        while not any(line.endswith("test successful") for line in self.console):
            self._check()
            if self._receive(deadline) is None:
                raise ChromeTabError(f"tour {name} did not finish in {timeout} s")
        self._check()

    def screenshot(self, test_name, prefix):
        """Save the page as Odoo saves a failed tour's (the ``screenshots`` directory of the database)."""
        data = self.call("Page.captureScreenshot", timeout=20.0)["data"]
        save_test_file(test_name, base64.b64decode(data), prefix)

    def close(self):
        """Close the connection; the page stays (the first page belongs to Odoo's runner)."""
        self._ws.close()

    def close_page(self):
        """Close the page, then the connection."""
        self.call("Page.close")
        self.close()


def _text(remote):
    """A CDP RemoteObject as text: its value when it has one, else its description."""
    if "value" in remote:
        return str(remote["value"])
    return str(remote.get("description", remote.get("type", "")))
