"""Request body size limit (ASGI middleware) and sliding-window rate limits per sender and per IP.

`rate_limiter(...)` gives a `SharedRateLimiter` (counts in the shared store, so every gateway worker sees the
same hits) when REDIS_URL is set, else an in-process `RateLimiter`.
"""

from __future__ import annotations

import json
import math
import time
from collections import deque

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from channels.shared_state import SharedState, SharedStateError

TOO_LARGE_DETAIL = "请求内容过大，请缩短后再试。/ Request body too large."
# After the shared store failed, the limiters count in process memory this long before trying it again, so an
# unreachable Redis costs one connection timeout per interval, not one per request.
STORE_RETRY_SECONDS = 5.0


class _Limit:
    def retry_after(self, key: str) -> int:
        raise NotImplementedError

    def check(self, key: str) -> None:
        wait = self.retry_after(key)
        if wait:
            raise HTTPException(
                status_code=429,
                detail=f"您发送得太频繁了，请 {wait} 秒后再试。/ Too many requests, retry after {wait}s.",
                headers={"Retry-After": str(wait)},
            )


class RateLimiter(_Limit):
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


class SharedRateLimiter(_Limit):
    """The same limit counted in the shared store: the current and the previous fixed window, the previous one
    weighted by how much of it still lies inside the sliding window (a close approximation that needs two keys
    per sender instead of a list of timestamps). While the store is down this process counts alone (`degraded`).
    """

    def __init__(self, store: SharedState, name: str, limit: int, window: float = 60.0) -> None:
        self.store = store
        self.name = name
        self.limit = limit
        self.window = window
        self.local = RateLimiter(limit, window)
        self.degraded = False
        self._store_retry_at = 0.0

    def retry_after(self, key: str) -> int:
        now = time.time()
        if self.degraded and time.monotonic() < self._store_retry_at:
            return self.local.retry_after(key)
        number, elapsed = divmod(now, self.window)
        prefix = f"rate:{self.name}:{key}:"
        try:
            current = self.store.incr(f"{prefix}{int(number)}", ttl=2 * self.window)
            previous = int(self.store.get(f"{prefix}{int(number) - 1}") or 0)
        except SharedStateError:
            self.degraded = True
            self._store_retry_at = time.monotonic() + STORE_RETRY_SECONDS
            from channels import metrics

            metrics.error("redis")
            return self.local.retry_after(key)
        self.degraded = False
        if previous * (1 - elapsed / self.window) + current > self.limit:
            return max(1, math.ceil(self.window - elapsed))
        return 0


def rate_limiter(store: SharedState | None, name: str, limit: int) -> RateLimiter | SharedRateLimiter:
    """Shared counts when there is a shared store (REDIS_URL), else this process's."""
    return SharedRateLimiter(store, name, limit) if store is not None else RateLimiter(limit)


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
