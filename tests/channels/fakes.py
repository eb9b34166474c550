"""Real local HTTP servers standing in for what a channel test does not exercise: Rasa (canned replies)
and the WeChat API (which is unreachable from here). They speak the real wire formats."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlparse

Handler = Callable[[str, str, dict[str, list[str]], bytes, dict[str, str]], tuple[int, Any]]


class FakeServer:
    """A threaded HTTP server on a free loopback port answering JSON through `handle`."""

    def __init__(self, handle: Handler) -> None:

        class _Handler(BaseHTTPRequestHandler):
            def _respond(self) -> None:
                parsed = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload = handle(
                    self.command, parsed.path, parse_qs(parsed.query), body, dict(self.headers.items())
                )
                headers: dict[str, str] = {}
                if isinstance(payload, dict) and "_body" in payload:  # a body with response headers
                    headers, payload = payload.get("_headers", {}), payload["_body"]
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _respond

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Served:
    """A fake that answers on a real local HTTP server once started (`with_server = Fake().start()`)."""

    server: FakeServer | None

    def start(self) -> Self:
        self.server = FakeServer(self._handle)
        return self

    @property
    def url(self) -> str:
        assert self.server
        return self.server.url

    def _handle(self, method: str, path: str, query: dict[str, list[str]], body: bytes,
                headers: dict[str, str]) -> tuple[int, Any]:
        raise NotImplementedError


@dataclass
class FakeRasa(Served):
    """Rasa's gateway channel (checking the signature as bot/connectors/gateway.py does) and /status, plus the
    action server's /health on the same port. `replies` returns the message list, or a dict
    `{"messages": [...], "headers": {...}}` to send response headers (the intent) too."""

    replies: Callable[[dict[str, Any]], list[dict[str, Any]]] = lambda request: [
        {"recipient_id": request["sender"], "text": f"您问的是：{request['message']}"}
    ]
    delay: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)
    actions_up: bool = True
    secret: str | None = None  # the gateway's RASA_CHANNEL_SECRET, set by the make_gateway fixture
    refused: list[str] = field(default_factory=list)
    server: FakeServer | None = None

    def _handle(self, method: str, path: str, query: dict[str, list[str]], body: bytes,
                headers: dict[str, str]) -> tuple[int, Any]:
        from hotline.hop_signature import SignatureVerifier

        if path == "/status":
            return 200, {"model_file": "hotline.tar.gz"}
        if path == "/health":
            return (200, {"status": "ok"}) if self.actions_up else (503, {})
        if path == "/webhooks/gateway/webhook" and method == "POST":
            problem = SignatureVerifier(self.secret or "").problem(headers, body) if self.secret else None
            if problem:
                self.refused.append(problem)
                return 401, {"error": problem}
            request = json.loads(body)
            self.received.append(request)
            time.sleep(self.delay)
            reply = self.replies(request)
            if isinstance(reply, dict):
                return 200, {"_body": reply["messages"], "_headers": reply.get("headers", {})}
            return 200, reply
        return 404, {}


@dataclass
class FakeWeChatApi(Served):
    """`cgi-bin/token` and `cgi-bin/message/custom/send`; `send_errcodes` are answered in order, then 0."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    token_requests: int = 0
    send_errcodes: list[int] = field(default_factory=list)
    server: FakeServer | None = None

    def _handle(self, method: str, path: str, query: dict[str, list[str]], body: bytes,
                headers: dict[str, str]) -> tuple[int, Any]:
        if path == "/cgi-bin/token":
            self.token_requests += 1
            return 200, {"access_token": f"TOKEN{self.token_requests}", "expires_in": 7200}
        if path == "/cgi-bin/message/custom/send":
            if query.get("access_token", [""])[0] != f"TOKEN{self.token_requests}":
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            if self.send_errcodes:
                errcode = self.send_errcodes.pop(0)
                return 200, {"errcode": errcode, "errmsg": "refused"}
            self.sent.append(json.loads(body))
            return 200, {"errcode": 0, "errmsg": "ok"}
        return 404, {}

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.sent) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.sent
