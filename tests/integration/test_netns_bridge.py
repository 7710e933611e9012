"""NetnsBridge: a port inside a network namespace of our own reaches a server on the test's loopback.

A fresh namespace (only its own ``lo``) cannot reach the root namespace's 127.0.0.1; through the bridge a
client inside it (``ip netns exec … python``) gets the server's answer, and after ``stop()`` it is refused
again. Needs root and iproute2 (the kiosk test of the booted till relies on the same bridge).
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import threading
import uuid

import pytest

from tests.kit.devstack import free_port
from tests.kit.netns_bridge import NetnsBridge

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None, reason="needs root and iproute2"
)

CLIENT = """
import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
except OSError as exc:
    print(f"refused: {exc}")
"""


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"hello from the root namespace: {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def namespace():
    name = f"bridge-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
    yield name
    subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Hello)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address
    httpd.shutdown()


def _get_inside(namespace: str, url: str) -> str:
    out = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-c", CLIENT, url],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return out.stdout.strip()


def test_a_port_inside_the_namespace_reaches_the_root_namespace(namespace, server):
    host, port = server
    url = "http://127.0.0.1:8069/pos/ui"
    # Without the bridge the namespace's own loopback has nothing there, nor can it see the server's port.
    assert _get_inside(namespace, url).startswith("refused")
    assert _get_inside(namespace, f"http://{host}:{port}/").startswith("refused")
    bridge = NetnsBridge(f"/run/netns/{namespace}", ("127.0.0.1", 8069), server).start()
    try:
        assert _get_inside(namespace, url) == "hello from the root namespace: /pos/ui"
        assert _get_inside(namespace, url + "?again=1") == "hello from the root namespace: /pos/ui?again=1"
        assert bridge.connections == 2
    finally:
        bridge.stop()
    assert _get_inside(namespace, url).startswith("refused")


def test_an_unknown_namespace_is_a_clear_error():
    with pytest.raises(OSError, match="nope"):
        NetnsBridge("/run/netns/nope-does-not-exist", ("127.0.0.1", 8069), ("127.0.0.1", 1)).start()
