"""A small key-value store with expiry that every gateway worker sees: Redis when `REDIS_URL` is set,
process memory otherwise (`make run` runs one gateway process).

    state = shared_state(settings)
    if state.add("wechat:answer:<openid>:<MsgId>", "pending", ttl=300):   # only the first caller gets True
        ...
    state.set(key, value, ttl=300); state.get(key); state.incr("limit:ip:…", ttl=60); state.delete(key)
    state.release(key, value)   # delete only if it still holds `value` (a lock released by its holder alone)

Values are strings. Keys are prefixed with `settings.redis_key_prefix`, so several deployments (or test runs)
can share one Redis. Used for WeChat de-duplication; meant for rate limits too.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from hotline.settings import Settings


class SharedStateError(RuntimeError):
    """The store cannot be reached (Redis down); callers decide how to carry on without it."""


class SharedState(Protocol):
    def add(self, key: str, value: str, ttl: float) -> bool:
        """Store `value` unless `key` exists; True when this call stored it (an atomic claim)."""

    def set(self, key: str, value: str, ttl: float) -> None: ...

    def get(self, key: str) -> str | None: ...

    def incr(self, key: str, ttl: float) -> int:
        """Add one to a counter; the expiry starts with its first increment."""

    def delete(self, key: str) -> None: ...

    def release(self, key: str, value: str) -> bool:
        """Delete `key` only while it holds `value`; True when this call deleted it."""


class MemoryState:
    """One process's dictionary, with expiry; thread-safe."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> str | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[1] <= now:
            del self._items[key]
            return None
        return item[0]

    def _forget_expired(self, now: float) -> None:
        if len(self._items) > 10_000:  # a flood of keys must not grow memory forever
            for key in [k for k, (_, expires) in self._items.items() if expires <= now]:
                del self._items[key]

    def add(self, key: str, value: str, ttl: float) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._live(key, now) is not None:
                return False
            self._forget_expired(now)
            self._items[key] = (value, now + ttl)
            return True

    def set(self, key: str, value: str, ttl: float) -> None:
        with self._lock:
            self._items[key] = (value, time.monotonic() + ttl)

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._live(key, time.monotonic())

    def incr(self, key: str, ttl: float) -> int:
        now = time.monotonic()
        with self._lock:
            current = self._live(key, now)
            count = int(current or 0) + 1
            expires = self._items[key][1] if current is not None else now + ttl
            self._items[key] = (str(count), expires)
            return count

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def release(self, key: str, value: str) -> bool:
        with self._lock:
            if self._live(key, time.monotonic()) != value:
                return False
            del self._items[key]
            return True


class RedisState:
    """The same operations on Redis (SET NX EX, GET, INCR + EXPIRE), shared by every gateway process.

    Blocking calls: on a loopback or LAN Redis each takes well under a millisecond, which the event loop can
    afford, and keeps the store usable from sync code (rate limits) too.
    """

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=2.0, socket_connect_timeout=2.0
        )
        self._prefix = prefix
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)

    def _call(self, method: str, *args: object, **kwargs: object) -> object:
        try:
            return getattr(self._redis, method)(*args, **kwargs)
        except self._errors as error:
            raise SharedStateError(f"Redis unavailable: {type(error).__name__}") from error

    def add(self, key: str, value: str, ttl: float) -> bool:
        return bool(self._call("set", self._prefix + key, value, nx=True, px=_millis(ttl)))

    def set(self, key: str, value: str, ttl: float) -> None:
        self._call("set", self._prefix + key, value, px=_millis(ttl))

    def get(self, key: str) -> str | None:
        value = self._call("get", self._prefix + key)
        return None if value is None else str(value)

    def incr(self, key: str, ttl: float) -> int:
        name = self._prefix + key
        count = int(self._call("incr", name))  # type: ignore[call-overload]
        if count == 1:
            self._call("pexpire", name, _millis(ttl))
        return count

    def delete(self, key: str) -> None:
        self._call("delete", self._prefix + key)

    def release(self, key: str, value: str) -> bool:
        # Compare and delete in one step: a lock that expired and was taken by another holder stays theirs.
        return bool(self._call("eval", _RELEASE_SCRIPT, 1, self._prefix + key, value))


_RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def _millis(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def shared_state(settings: Settings) -> SharedState:
    if settings.redis_url:
        return RedisState(settings.redis_url, settings.redis_key_prefix)
    return MemoryState()
