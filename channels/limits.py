"""Request body size limit (ASGI middleware) and sliding-window rate limits per sender and per IP."""

from __future__ import annotations

import json
import math
import time
from collections import deque

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE_DETAIL = "请求内容过大，请缩短后再试。/ Request body too large."


class RateLimiter:
    """At most `limit` hits per `window` seconds for each key; one gateway process keeps the counts."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> int:
        """0 and the hit is counted, or the whole seconds until the key may try again."""
        now = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, math.ceil(hits[0] + self.window - now))
        hits.append(now)
        if len(self._hits) > 50_000:  # forget idle keys so a flood of new ids cannot grow memory forever
            for stale in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                del self._hits[stale]
        return 0

    def check(self, key: str) -> None:
        wait = self.retry_after(key)
        if wait:
            raise HTTPException(
                status_code=429,
                detail=f"您发送得太频繁了，请 {wait} 秒后再试。/ Too many requests, retry after {wait}s.",
                headers={"Retry-After": str(wait)},
            )


class BodySizeLimit:
    """Answers 413 before reading more than `max_bytes`, whether or not the client sent Content-Length."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(send)
            return
        received = 0
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Answer now and tell the app the client left: frameworks turn exceptions raised
                    # while reading the body into their own 400, which would hide the real reason.
                    refused = True
                    await _too_large(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:  # the 413 has been sent; whatever the app answers after it is dropped
                await send(message)

        await self.app(scope, limited_receive, guarded_send)


async def _too_large(send: Send) -> None:
    body = json.dumps({"detail": TOO_LARGE_DETAIL}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
