"""sync/clients.py classifies whole-request 4xx answers: final (DLQ) only when the endpoint's API says so.

Both contracts answer every refusal as ``application/problem+json``. A 4xx without it comes from something in
front of the API — Odoo with its database down answers every addon route with an HTML 404 — and must not
send a batch of receipts to the DLQ: it is transient, retried behind the breaker until the API is back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kkt_adapter.sync.clients import OdooClient, OfdClient, PermanentError, TransientError


class Answer:
    status = 200
    content_type = "application/json"
    body = b"{}"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(Answer.status)
        self.send_header("Content-Type", Answer.content_type)
        self.send_header("Content-Length", str(len(Answer.body)))
        self.end_headers()
        self.wfile.write(Answer.body)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def answer(status: int, content_type: str, body: bytes) -> None:
    Answer.status, Answer.content_type, Answer.body = status, content_type, body


def problem(status: int, code: str) -> bytes:
    return json.dumps(
        {"type": "about:blank", "status": status, "code": code, "detail": f"{code} here"}
    ).encode()


ODOO_DATABASE_DOWN = b"<!DOCTYPE html><html><title>404: Not Found</title><body>Not Found</body></html>"


@pytest.mark.parametrize(
    ("status", "content_type", "body"),
    [
        (404, "text/html; charset=utf-8", ODOO_DATABASE_DOWN),  # Odoo without its database
        (403, "text/html", b"<html>nginx: forbidden</html>"),  # a proxy's own page
        (400, "text/plain", b"Bad Request"),
        (401, "application/json", b'{"error": "not ours"}'),
    ],
)
def test_a_4xx_the_api_did_not_write_is_transient(server, status, content_type, body):
    answer(status, content_type, body)
    with pytest.raises(TransientError, match=f"HTTP {status} .* without a problem answer"):
        OdooClient(server, timeout=5, token="t").send("till-1", [{"receipt_id": "r1"}])
    with pytest.raises(TransientError):
        OfdClient(server, timeout=5).send([{"fn_number": "1", "fd": 1, "doc_type": 3, "message": b"x"}])


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "malformed_body"), (401, "unauthorized"), (403, "forbidden"), (404, "not_found")],
)
def test_a_problem_answer_of_the_api_is_final(server, status, code):
    answer(status, "application/problem+json; charset=utf-8", problem(status, code))
    with pytest.raises(PermanentError, match=f"HTTP {status}: {code} here"):
        OdooClient(server, timeout=5, token="t").send("till-1", [{"receipt_id": "r1"}])


def test_server_errors_stay_transient_whatever_their_body(server):
    answer(503, "application/problem+json", problem(503, "unavailable"))
    with pytest.raises(TransientError, match="HTTP 503"):
        OdooClient(server, timeout=5, token="t").send("till-1", [{"receipt_id": "r1"}])
