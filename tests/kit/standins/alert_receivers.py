"""Stand-ins for the receivers Alertmanager notifies: Telegram's Bot API, an SMTP server and the external
heartbeat (dead man's switch) webhook — in-process servers on loopback that record what they receive.

Alertmanager talks to them exactly as to the real ones (``telegram_configs.api_url``, ``smtp_smarthost``,
``webhook_configs.url``), so a drill proves the routing end to end: which chat and which mailbox got which
alert. Only for tests (tests/poc/test_monitoring_drill.py); nothing here ships.
"""

from __future__ import annotations

import email
import json
import socketserver
import threading
import time
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Message:
    channel: str  # "telegram:<chat_id>", "mail:<recipient>" or "heartbeat"
    text: str
    received: float = field(default_factory=time.monotonic)


class _Http(BaseHTTPRequestHandler):
    receivers: AlertReceivers

    def log_message(self, *args) -> None:  # quiet: the drill prints its own figures
        pass

    def _reply(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/heartbeat":
            alerts = json.loads(raw).get("alerts", [])
            names = ",".join(a["labels"].get("alertname", "") for a in alerts)
            self.receivers.record(Message("heartbeat", names))
            self._reply({"ok": True})
            return
        method = self.path.rsplit("/", 1)[-1]  # /bot<token>/<method>
        if self.headers.get("Content-Type", "").startswith("application/json"):
            params = json.loads(raw or b"{}")
        else:
            params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if method == "getMe":
            self._reply(
                {
                    "ok": True,
                    "result": {"id": 1, "is_bot": True, "first_name": "drill", "username": "drill_bot"},
                }
            )
            return
        chat = str(params.get("chat_id"))
        self.receivers.record(Message(f"telegram:{chat}", str(params.get("text", ""))))
        message = {
            "message_id": len(self.receivers.messages),
            "date": int(time.time()),
            "text": params.get("text"),
        }
        self._reply({"ok": True, "result": {**message, "chat": {"id": int(chat), "type": "group"}}})


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough ESMTP for Go's net/smtp client: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    receivers: AlertReceivers

    def _say(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        self._say("220 drill ESMTP")
        rcpts: list[str] = []
        while line := self.rfile.readline():
            verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._say("250-drill")
                self._say("250 8BITMIME")
            elif verb == "MAIL":
                rcpts = []
                self._say("250 ok")
            elif verb == "RCPT":
                rcpts.append(line.decode().split(":", 1)[1].strip().strip("<>"))
                self._say("250 ok")
            elif verb == "DATA":
                self._say("354 end with <CRLF>.<CRLF>")
                body = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body += chunk
                parsed = email.message_from_bytes(body)
                subject = str(make_header(decode_header(parsed.get("Subject", ""))))
                for rcpt in rcpts:
                    self.receivers.record(Message(f"mail:{rcpt}", subject))
                self._say("250 queued")
            elif verb in ("RSET", "NOOP"):
                self._say("250 ok")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("502 not implemented")


class AlertReceivers:
    """Telegram + heartbeat over HTTP (``http_url``) and SMTP (``smtp_address``) on loopback."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        http = type("Http", (_Http,), {"receivers": self})
        smtp = type("Smtp", (_Smtp,), {"receivers": self})
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), http)
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._smtp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), smtp)
        self._smtp.daemon_threads = True
        self._threads = [
            threading.Thread(target=s.serve_forever, daemon=True) for s in (self._http, self._smtp)
        ]

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def smtp_address(self) -> str:
        return f"127.0.0.1:{self._smtp.server_address[1]}"

    def record(self, message: Message) -> None:
        with self._lock:
            self.messages.append(message)

    def received(self, channel: str, *words: str) -> list[Message]:
        """Messages on ``channel`` (prefix match: "telegram:", "mail:") containing every one of ``words``."""
        with self._lock:
            return [
                m for m in self.messages if m.channel.startswith(channel) and all(w in m.text for w in words)
            ]

    def __enter__(self) -> AlertReceivers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in (self._http, self._smtp):
            server.shutdown()
            server.server_close()
