"""A real headless Chromium driven over the DevTools protocol (CDP): log in to Odoo, open pages, wait for
the DOM, time what a user waits for, take screenshots. Test-only; never shipped.

Chromium is Debian's (installed by the Odoo bench); the CDP socket is ``websocket-client``.

``Browser(policy={...})`` starts Chromium with that managed policy (as a till's kiosk role installs it in
``/etc/chromium/policies/managed``) without touching the machine's ``/etc``: Chromium runs in a private mount
namespace (``unshare``, root only) where a temporary folder is bind-mounted over ``/etc/chromium``.
``kill9()`` then ``start()`` again is a browser crash and restart on the same profile.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
import websocket

#: Seconds for Chromium to write its DevTools port (a cold start on a loaded 2-CPU box).
START_TIMEOUT = 30.0


class BrowserError(RuntimeError):
    pass


class Browser:
    """One Chromium process with one page; ``with Browser() as b:`` starts and stops it."""

    def __init__(
        self,
        width: int = 1440,
        height: int = 900,
        profile: Path | None = None,
        policy: dict | None = None,
        args: tuple[str, ...] = (),
    ):
        self.width, self.height = width, height
        self._own_profile = profile is None
        self.profile = profile or Path(tempfile.mkdtemp(prefix="cdp-profile-"))
        self.policy = policy
        self.extra_args = args  # further Chromium flags
        self._policy_root: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.ws: websocket.WebSocket | None = None
        self._ids = itertools.count(1)

    def start(self) -> Browser:
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if not binary:
            raise BrowserError("chromium is not installed (the Odoo bench installs Debian's)")
        port_file = self.profile / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)
        args = [
            binary, "--headless=new", "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
            "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-extensions",
            "--disable-background-networking", f"--window-size={self.width},{self.height}", "--lang=ru-RU",
        ]  # fmt: skip
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to sandbox as root (CI containers run as root)
        self.proc = subprocess.Popen(
            [*self._policy_prefix(), *args, *self.extra_args, "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not port_file.exists() or not port_file.read_text().strip():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise BrowserError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        pages = [
            t
            for t in requests.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
            if t["type"] == "page"
        ]
        self.ws = websocket.create_connection(
            pages[0]["webSocketDebuggerUrl"], timeout=60, suppress_origin=True
        )
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )
        return self

    def _policy_prefix(self) -> list[str]:
        """The command that gives Chromium ``self.policy`` as its managed policy (none without one)."""
        if self.policy is None:
            return []
        if os.geteuid() != 0:
            raise BrowserError("a managed policy needs root (a private mount namespace over /etc/chromium)")
        if self._policy_root is None:
            self._policy_root = Path(tempfile.mkdtemp(prefix="cdp-policy-"))
        managed = self._policy_root / "policies" / "managed"
        managed.mkdir(parents=True, exist_ok=True)
        (managed / "test.json").write_text(json.dumps(self.policy, indent=2), encoding="utf-8")
        Path("/etc/chromium").mkdir(exist_ok=True)  # Debian's package ships it; the mount point
        return [
            "unshare", "--mount", "--propagation", "private", "--",
            "sh", "-c", 'mount --bind "$0" /etc/chromium && exec "$@"', str(self._policy_root),
        ]  # fmt: skip

    def kill9(self) -> None:
        """SIGKILL to Chromium and all its processes (a crash); the profile stays for ``start()``."""
        if self.ws is not None:
            self.ws.close()
            self.ws = None
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        self.kill9()
        if self._own_profile:
            shutil.rmtree(self.profile, ignore_errors=True)
        if self._policy_root is not None:
            shutil.rmtree(self._policy_root, ignore_errors=True)
            self._policy_root = None

    def __enter__(self) -> Browser:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def send(self, method: str, **params: Any) -> dict:
        """One CDP command; events arriving meanwhile are dropped."""
        assert self.ws is not None
        ident = next(self._ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str, await_promise: bool = False) -> Any:
        result = self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=await_promise, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(
                f"page script failed: {result['exceptionDetails'].get('exception', {}).get('description')}"
            )
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        """A full page load of ``url`` (through about:blank: a URL differing from the current one only
        after ``#`` would otherwise be a same-document navigation that a single-page app may ignore)."""
        self.send("Page.navigate", url="about:blank")
        self.wait_for("location.href === 'about:blank' && document.readyState === 'complete'", timeout=10)
        self.send("Page.navigate", url=url)

    def wait_for(self, condition: str, timeout: float = 60.0) -> Any:
        """Poll a JavaScript expression until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                # A DOM node comes back by value as {}: report it as found.
                value = self.evaluate(
                    f"(() => {{ const v = ({condition}); return v instanceof Node || v; }})()"
                )
            except BrowserError:
                value = None  # the page is being replaced by a navigation
            if value:
                return value
            time.sleep(0.05)
        try:
            where = self.evaluate("location.href + ' | ' + document.body.innerText.slice(0, 400)")
        except BrowserError as err:
            where = str(err)
        raise BrowserError(f"timed out after {timeout} s waiting for: {condition}; page: {where}")

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def login_odoo(
        self, url: str, database: str, login: str, password: str, verify: bool | str = True
    ) -> None:
        """A session cookie from Odoo's JSON-RPC authenticate, handed to the browser (``verify``: the CA
        bundle of an https ``url`` signed by a test CA)."""
        value, expires = odoo_session_cookie(url, database, login, password, verify)
        # With Odoo's expiry, as the browser would keep it: a cookie without one dies with the browser.
        expiry = {"expires": expires} if expires else {}
        self.send("Network.enable")
        self.send("Network.setCookie", name="session_id", value=value, url=url, **expiry)


def odoo_session_cookie(
    url: str, database: str, login: str, password: str, verify: bool | str = True
) -> tuple[str, float | None]:
    """Odoo's ``session_id`` cookie from its JSON-RPC authenticate: its value and expiry (None: none)."""
    reply = requests.post(
        f"{url}/web/session/authenticate",
        json={"jsonrpc": "2.0", "params": {"db": database, "login": login, "password": password}},
        timeout=60,
        verify=verify,
    )
    if reply.json().get("error") or "session_id" not in reply.cookies:
        raise BrowserError(f"odoo login failed for {login}: {reply.text[:300]}")
    cookie = next(c for c in reply.cookies if c.name == "session_id")
    return cookie.value, cookie.expires
